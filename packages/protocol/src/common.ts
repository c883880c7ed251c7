import { z } from "zod";

/** The most items any list route returns in one page. */
export const MAX_PAGE_SIZE = 100;

/** Opaque pagination cursor as sent by clients. */
export const Cursor = z.string().max(200);

/** Page-size query parameter, capped so a client cannot ask for the whole table. */
export const PageSize = z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50);

/** An integer amount of micro-units, carried as a decimal string so no float ever touches money. */
export const MicroUnits = z.string().regex(/^-?\d{1,30}$/, "integer micro-units as a decimal string");

/** ISO-8601 timestamp string. */
export const Timestamp = z.string();

/** Prefixed random identifiers; the prefix names the kind of object. */
export const UserId = z.string().regex(/^usr_[a-z0-9]{26}$/);
/** An API key's public identifier (never the key). */
export const ApiKeyId = z.string().regex(/^key_[a-z0-9]{26}$/);
/** A device identifier: random, unguessable, not sequential. */
export const DeviceId = z.string().regex(/^dev_[a-z0-9]{26}$/);
