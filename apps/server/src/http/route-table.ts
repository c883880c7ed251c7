import type { RouteMeta } from "./app.js";

/** One registered route as the authorization matrix and the privacy crawl read it. */
export interface RouteEntry {
  method: string;
  url: string;
  meta: RouteMeta | undefined;
}

/** Every route the app registered, filled by an onRoute hook before any route module runs. */
export type RouteTable = RouteEntry[];
