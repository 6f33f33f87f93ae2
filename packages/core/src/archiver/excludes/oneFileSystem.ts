/**
 * restic's `--one-file-system` rule for one item: it is kept if it lies on `allowedDevice`, the device of
 * the nearest backup source path that contains it; a directory on another device is kept too (empty: a
 * mount point) when its parent directory lies on the allowed device; everything else is excluded.
 * @param device - the item's `st_dev`.
 * @param isDir - whether the item is a directory.
 * @param allowedDevice - `st_dev` of the nearest source path containing the item (the item itself if it is one).
 * @param parentDevice - `st_dev` of the item's parent directory.
 */
export function oneFileSystemAllows(device: bigint, isDir: boolean, allowedDevice: bigint, parentDevice: bigint): boolean {
  if (device === allowedDevice) return true
  return isDir && parentDevice === allowedDevice
}
