/** Splits a list into runs whose JSON stays under a byte budget; used by the room so no message passes workerd's 1 MiB cap. */
export function chunkByBytes<T>(items: readonly T[], maxBytes: number): T[][] {
  const parts: T[][] = [[]];
  let size = 0;
  for (const item of items) {
    // JSON length in UTF-16 units, times up to 3 bytes each: a safe upper bound.
    const itemBytes = JSON.stringify(item).length * 3 + 1;
    if (size + itemBytes > maxBytes && parts[parts.length - 1]!.length > 0) {
      parts.push([]);
      size = 0;
    }
    parts[parts.length - 1]!.push(item);
    size += itemBytes;
  }
  return parts;
}
