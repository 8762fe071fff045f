/**
 * How a schema is declared to parse to exactly a plain type of wire/ (which the client bundles
 * without zod): `export type Member = Exactly<z.output<typeof Member>, wire.Member>` is
 * `wire.Member`, and does not compile when the schema's type and the wire type differ in any
 * field, element, case or optional mark. Used by the protocol's modules; not re-exported.
 */

/** True when A and B are the same type (not merely assignable to each other). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `Wire`, checked to be exactly `Parsed`; when it is not, the error names what the schema parses to. */
export type Exactly<Parsed, Wire extends Check, Check = Same<Parsed, Wire> extends true ? Wire : { "the schema parses to": Parsed }> = Wire;
