/** Splits a list into runs whose JSON stays under a byte budget; used by the room so no message passes workerd's 1 MiB cap. */
export function chunkByBytes<T>(items: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [[]];
  let size = 0;
  for (const item of items) {
    // JSON length in UTF-16 units, times up to 3 bytes each: a safe upper bound.
    const itemBytes = JSON.stringify(item).length * 3 + 1;
    if (size + itemBytes > maxBytes && chunks[chunks.length - 1]!.length > 0) {
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1]!.push(item);
    size += itemBytes;
  }
  return chunks;
}

/**
 * JSON texts of items joined into JSON array texts whose UTF-8 size stays under a byte budget:
 * what `chunkByBytes` then `JSON.stringify` of each chunk gives, with each item stringified once.
 */
export function joinByBytes(texts: readonly string[], maxBytes: number): string[] {
  const chunks: string[] = [];
  let run: string[] = [];
  let size = 0;
  for (const text of texts) {
    const itemBytes = text.length * 3 + 1;
    if (size + itemBytes > maxBytes && run.length > 0) {
      chunks.push(`[${run.join(",")}]`);
      run = [];
      size = 0;
    }
    run.push(text);
    size += itemBytes;
  }
  chunks.push(`[${run.join(",")}]`);
  return chunks;
}
