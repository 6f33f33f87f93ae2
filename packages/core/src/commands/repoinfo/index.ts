export {
  RepoInfoOptionsSchema,
  repoInfo,
  type BlobInfo,
  type PackInfo,
  type RepoFileInfo,
  type RepoInfo,
  type RepoInfoOptions,
} from './repoInfo.js'
