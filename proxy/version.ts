/** leakscope's version, as the CLI, the HAR creator and the report state it. */
export const VERSION = '0.1.0';
