/** The release of this server: in its build info metric and in `GET /healthz`. */
export const VERSION = "0.1.0";
