import type { ChainTables } from "../chain/tables.js";
import type { ConnectivityTables } from "../connectivity/tables.js";
import type { DeviceTables } from "../devices/tables.js";
import type { IdentityTables } from "../identity/tables.js";
import type { JobTables } from "../jobs/tables.js";
import type { LedgerTables } from "../ledger/tables.js";
import type { MarketTables } from "../market/tables.js";
import type { MeshTables } from "../mesh/tables.js";
import type { ProofTables } from "../proof/tables.js";
import type { RewardTables } from "../rewards/tables.js";
import type { SecurityTables } from "../security/tables.js";
import type { StakeTables } from "../stakes/tables.js";
import type { UpgradeTables } from "../upgrades/tables.js";
import type { UptimeTables } from "../uptime/tables.js";

/** Every table of the system of record, one interface per domain. */
export interface Database
  extends IdentityTables,
    DeviceTables,
    UptimeTables,
    SecurityTables,
    MarketTables,
    RewardTables,
    LedgerTables,
    JobTables,
    ProofTables,
    MeshTables,
    UpgradeTables,
    ChainTables,
    ConnectivityTables,
    StakeTables {}
