import { Link, useLocation } from "../../lib/router";
import { AdminAlerts } from "./admin-alerts";
import { AdminApiKeys } from "./admin-api-keys";
import { AdminAudit } from "./admin-audit";
import { AdminKeyMigrations } from "./admin-key-migrations";
import { AdminMaintenance } from "./admin-maintenance";
import { AdminUsers } from "./admin-users";
import { AdminWorkerRollouts } from "./admin-worker-rollouts";

const TABS = [
  { id: "users", title: "Users", view: AdminUsers },
  { id: "keys", title: "API keys", view: AdminApiKeys },
  { id: "alerts", title: "Security alerts", view: AdminAlerts },
  { id: "audit", title: "Audit log", view: AdminAudit },
  { id: "maintenance", title: "Maintenance", view: AdminMaintenance },
  { id: "migrations", title: "Key migrations", view: AdminKeyMigrations },
  { id: "rollouts", title: "Worker rollouts", view: AdminWorkerRollouts },
] as const;

/** The admin console: one tab per concern, the tab kept in the URL so it can be linked. */
export function AdminPage() {
  const { query } = useLocation();
  const tab = TABS.find((t) => t.id === query.get("tab")) ?? TABS[0];
  const View = tab.view;
  return (
    <section className="page">
      <header className="page-header">
        <h1>Admin</h1>
      </header>
      <nav className="tabs" aria-label="Admin sections">
        {TABS.map((t) => (
          <Link key={t.id} to={`/admin?tab=${t.id}`} className={t.id === tab.id ? "tab active" : "tab"}>
            {t.title}
          </Link>
        ))}
      </nav>
      <View />
    </section>
  );
}
