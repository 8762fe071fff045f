/** Limits the client checks before it sends, kept out of protocol/ so the client bundle carries no zod. */

/** Most users one status request or one watch list may name. */
export const MAX_USERS_PER_REQUEST = 1000;

/** Most members a client's window may hold in interval mode (`window` in the connect query or message). */
export const MAX_WINDOW = 100;
