import type { Migration } from "kysely";
import * as m0001 from "./0001-identity.js";
import * as m0002 from "./0002-devices.js";
import * as m0003 from "./0003-uptime.js";
import * as m0004 from "./0004-audit.js";
import * as m0005 from "./0005-worker-sessions.js";
import * as m0006 from "./0006-proof.js";
import * as m0007 from "./0007-rewards.js";
import * as m0008 from "./0008-security.js";
import * as m0009 from "./0009-marketplace.js";
import * as m0010 from "./0010-uptime-covering-index.js";
import * as m0011 from "./0011-session-address.js";
import * as m0012 from "./0012-proof-groups.js";
import * as m0014 from "./0014-user-suspension.js";
import * as m0015 from "./0015-device-conflict.js";
import * as m0017 from "./0017-cluster-mesh.js";
import * as m0019 from "./0019-worker-upgrades.js";
import * as m0020 from "./0020-machine-client-secrets.js";
import * as m0021 from "./0021-reward-root-publications.js";
import * as m0022 from "./0022-device-location.js";
import * as m0023 from "./0023-stakes.js";
import * as m0024 from "./0024-connectivity-tiers.js";
import * as m0025 from "./0025-proof-group-rounds.js";
import * as m0027 from "./0027-memory-proof.js";
import * as m0028 from "./0028-proof-round-coverage.js";
import * as m0029 from "./0029-rank-replacement-wait.js";
import * as m0030 from "./0030-proof-freshness.js";

/** Numbered migrations in order; names never change once released. */
export const migrations: Record<string, Migration> = {
  "0001-identity": m0001,
  "0002-devices": m0002,
  "0003-uptime": m0003,
  "0004-audit": m0004,
  "0005-worker-sessions": m0005,
  "0006-proof": m0006,
  "0007-rewards": m0007,
  "0008-security": m0008,
  "0009-marketplace": m0009,
  "0010-uptime-covering-index": m0010,
  "0011-session-address": m0011,
  "0012-proof-groups": m0012,
  "0014-user-suspension": m0014,
  "0015-device-conflict": m0015,
  "0017-cluster-mesh": m0017,
  "0019-worker-upgrades": m0019,
  "0020-machine-client-secrets": m0020,
  "0021-reward-root-publications": m0021,
  "0022-device-location": m0022,
  "0023-stakes": m0023,
  "0024-connectivity-tiers": m0024,
  "0025-proof-group-rounds": m0025,
  "0027-memory-proof": m0027,
  "0028-proof-round-coverage": m0028,
  "0029-rank-replacement-wait": m0029,
  "0030-proof-freshness": m0030,
};
