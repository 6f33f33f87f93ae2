// Back up to S3 (or any S3-compatible store: MinIO, Ceph, Garage, ...) through OpenDAL.
// The repository string `opendal:s3` picks OpenDAL's s3 service; its options are OpenDAL's names.
// Secrets (access keys) never appear in locations, errors or warnings.
//
// Run: S3_ENDPOINT=https://s3.example.com S3_BUCKET=backups AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
//      RUSTIC_PASSWORD=... node examples/s3-opendal.mjs [PATH...]      (after npm run build)
// The CLI does the same:  rustic-ts -r opendal:s3 -o bucket=backups -o endpoint=... backup PATH
import { fileURLToPath } from 'node:url'
import { initRepository, isRusticError, openRepository, shortId } from 'rustic-ts'

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback
  if (v === undefined) throw new Error(`set ${name}`)
  return v
}
const backendOptions = {
  repository: 'opendal:s3',
  options: {
    bucket: env('S3_BUCKET'),
    root: env('S3_ROOT', '/rustic-ts-example'),
    endpoint: env('S3_ENDPOINT'),
    region: env('S3_REGION', 'us-east-1'),
    access_key_id: env('AWS_ACCESS_KEY_ID'),
    secret_access_key: env('AWS_SECRET_ACCESS_KEY'),
    // only what is given here: no ~/.aws files, no EC2 instance metadata lookups
    disable_config_load: 'true',
    disable_ec2_metadata: 'true',
  },
  onWarning: (message) => console.warn(`warning: ${message}`), // told about each retry
}
const credentials = { password: env('RUSTIC_PASSWORD') }
const paths = process.argv.length > 2 ? process.argv.slice(2) : [fileURLToPath(new URL('.', import.meta.url))]

// open the repository, or create it the first time
let repo
try {
  repo = await openRepository({ noCache: true }, backendOptions, credentials)
} catch (e) {
  if (!isRusticError(e, 'RepositoryNotFound')) throw e
  const created = await initRepository({ noCache: true }, backendOptions, credentials)
  console.log(`created repository ${shortId(created.id)} at ${created.location()}`)
  await created.close()
  repo = await openRepository({ noCache: true }, backendOptions, credentials)
}
try {
  const indexed = await repo.toIndexed()
  const { snapshot } = await indexed.backup(paths, { tags: ['s3-example'] })
  const s = snapshot.summary
  console.log(`snapshot ${shortId(snapshot.id)} at ${repo.location()}: ${s.totalFilesProcessed} files, ${s.dataAddedPacked} bytes uploaded`)
  console.log(`${(await repo.getSnapshots({ tags: [['s3-example']] })).length} snapshots tagged s3-example`)
} finally {
  await repo.close()
}
