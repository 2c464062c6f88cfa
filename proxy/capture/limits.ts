// How much of each body leakscope keeps. Bodies always stream through whole; only what is kept is capped,
// so a 1 GiB upload costs at most these bytes of memory and the flow is marked `truncated`.

/** Request bodies held back before forwarding, scanned, stored and (if a rule says so) redacted. */
export const REQUEST_CAPTURE_BYTES = 1024 * 1024;
/** Response bodies: what is stored for the flow detail and the HAR. */
export const RESPONSE_CAPTURE_BYTES = 256 * 1024;
/** Decoded (gunzipped) size kept of either body. */
export const DECODED_BYTES = 2 * 1024 * 1024;
