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

/**
 * JSON texts of items joined into JSON array texts whose UTF-8 size stays under a byte budget:
 * what `chunkByBytes` then `JSON.stringify` of each part gives, with each item stringified once.
 */
export function joinByBytes(texts: readonly string[], maxBytes: number): string[] {
  const parts: string[] = [];
  let run: string[] = [];
  let size = 0;
  for (const text of texts) {
    const itemBytes = text.length * 3 + 1;
    if (size + itemBytes > maxBytes && run.length > 0) {
      parts.push(`[${run.join(",")}]`);
      run = [];
      size = 0;
    }
    run.push(text);
    size += itemBytes;
  }
  parts.push(`[${run.join(",")}]`);
  return parts;
}
