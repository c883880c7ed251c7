import { randomUUID } from "node:crypto";
import type { Pov, World } from "./world.js";

/** The request one cell makes: a concrete path (and body) for a point of view. */
export interface CellRequest {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One reviewed route: how to call it and the status each point of view must get. */
export interface MatrixRow {
  /** `METHOD /url` exactly as the server registers it. */
  route: string;
  /** The concrete request; it may create fresh objects (a route that destroys what it acts on). */
  request?: (w: World, pov: Pov) => CellRequest | Promise<CellRequest>;
  /** Expected status per point of view; device points of view default to {@link deviceDefault}. */
  expect: Partial<Record<Pov, number>>;
  /** Why the expectations are what they are, when it is not obvious. */
  why?: string;
}

type UserPovs = Pick<Record<Pov, number>, "anonymous" | "owner" | "otherSupplier" | "customer" | "admin">;

/** Admin only: anonymous 401, every other role 403. */
export const adminOnly = (ok: number): UserPovs => ({
  anonymous: 401,
  owner: 403,
  otherSupplier: 403,
  customer: 403,
  admin: ok,
});

/** Any signed-in user, whatever their role. */
export const signedIn = (ok: number): UserPovs => ({
  anonymous: 401,
  owner: ok,
  otherSupplier: ok,
  customer: ok,
  admin: ok,
});

/** Public: the same answer for everyone, signed in or not. */
export const everyone = (ok: number): UserPovs => ({
  anonymous: ok,
  owner: ok,
  otherSupplier: ok,
  customer: ok,
  admin: ok,
});

/** Suppliers (and admins when `admin` is given); customers are refused with 403. */
export const suppliers = (ok: number, admin = 403): UserPovs => ({
  anonymous: 401,
  owner: ok,
  otherSupplier: ok,
  customer: 403,
  admin,
});

/** Customers (and admins when `admin` is given); suppliers are refused with 403. */
export const customers = (ok: number, admin = 403): UserPovs => ({
  anonymous: 401,
  owner: 403,
  otherSupplier: 403,
  customer: ok,
  admin,
});

/**
 * An object of `owner`: another user gets 404 (not 403), so ids cannot be probed; `admin` is what an admin gets
 * (404 for owner-only actions such as relabelling).
 */
export const ownedByOwner = (ok: number, admin: number): UserPovs => ({
  anonymous: 401,
  owner: ok,
  otherSupplier: 404,
  customer: 404,
  admin,
});

/** An object of `customer`, in the same way. */
export const ownedByCustomer = (ok: number, admin: number): UserPovs => ({
  anonymous: 401,
  owner: 404,
  otherSupplier: 404,
  customer: ok,
  admin,
});

/**
 * A device presents no user credential: the most it has is its own identity, which the pipeline refuses as a
 * bearer (401) on every route, except those that authenticate in-band (the IdP and the worker socket), where it
 * is treated like anyone else.
 */
export function deviceDefault(route: string, anonymous: number | undefined): number | undefined {
  const url = route.split(" ")[1] ?? "";
  const selfAuthenticating = url === "/oidc" || url.startsWith("/oidc/") || url.startsWith("/v1/worker/");
  return selfAuthenticating ? anonymous : 401;
}

/** A unique suffix for bodies that must not collide between cells. */
export const unique = () => randomUUID().slice(0, 8);
