import { type ReactNode, useEffect } from "react";
import { endSessionUrl } from "./auth/oidc-client";
import { currentSession, endSession, hasRole, type Me, setMe, useSession } from "./auth/session";
import { Empty } from "./components/states";
import { api } from "./lib/api";
import { Link, matchPath, navigate, useLocation } from "./lib/router";
import { AdminPage } from "./pages/admin/admin-page";
import { ClusterPage } from "./pages/cluster-page";
import { CustomerPage } from "./pages/customer";
import { DevicePage } from "./pages/device-page";
import { DeviceTable } from "./pages/device-table";
import { EpochsPage } from "./pages/epochs";
import { ExplorerOverview } from "./pages/explorer-overview";
import { CallbackPage, SignInPage } from "./pages/sign-in";
import { SupplierPage } from "./pages/supplier";

type Role = Me["roles"][number];

/** The page for a path; pages that need a role send anonymous visitors to sign in first. */
function Page({ path }: { path: string }) {
  const session = useSession();
  const needs = (role: Role, page: ReactNode) => {
    if (!session.credential) return <SignInRedirect />;
    if (!session.me) return null;
    return hasRole(session, role) ? page : <Empty>This page is for accounts with the {role} role.</Empty>;
  };
  if (path === "/") return <ExplorerOverview />;
  if (path === "/devices") return <DeviceTable />;
  const device = matchPath("/devices/:id", path);
  if (device) return <DevicePage id={device.id!} />;
  if (path === "/epochs") return <EpochsPage />;
  if (path === "/signin") return <SignInPage />;
  if (path === "/auth/callback") return <CallbackPage />;
  if (path === "/supplier") return needs("supplier", <SupplierPage />);
  if (path === "/customer") return needs("customer", <CustomerPage />);
  const cluster = matchPath("/customer/clusters/:id", path);
  if (cluster) return needs("customer", <ClusterPage id={cluster.id!} />);
  if (path === "/admin") return needs("admin", <AdminPage />);
  return (
    <section className="page">
      <Empty>
        <h1>Page not found</h1>
        <p>
          <Link to="/">Back to the explorer</Link>
        </p>
      </Empty>
    </section>
  );
}

function SignInRedirect() {
  const { path } = useLocation();
  useEffect(() =>
    navigate(`/signin?next=${encodeURIComponent(path + window.location.search)}`, { replace: true }),
  );
  return null;
}

async function signOut() {
  const credential = currentSession().credential;
  endSession();
  if (credential?.kind === "oidc") {
    const url = await endSessionUrl(credential.tokens.idToken).catch(() => undefined);
    if (url) window.location.assign(url);
  }
  navigate("/");
}

/** The shell: header with navigation by role, and the current page. */
export function App() {
  const { path } = useLocation();
  const session = useSession();

  // A session restored from sessionStorage without its user (or after roles changed) asks who it is again.
  useEffect(() => {
    if (session.credential && !session.me) api<Me>("/v1/me").then(setMe, () => undefined);
  }, [session.credential, session.me]);

  const nav: [string, string][] = [
    ["/", "Overview"],
    ["/devices", "Devices"],
    ["/epochs", "Epochs"],
  ];
  if (hasRole(session, "supplier")) nav.push(["/supplier", "Supplier"]);
  if (hasRole(session, "customer")) nav.push(["/customer", "Customer"]);
  if (hasRole(session, "admin")) nav.push(["/admin", "Admin"]);
  const active = (to: string) => (to === "/" ? path === "/" : path === to || path.startsWith(`${to}/`));

  return (
    <>
      <header className="topbar">
        <Link to="/" className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} /> Ignis
        </Link>
        <nav className="nav" aria-label="Main">
          {nav.map(([to, label]) => (
            <Link key={to} to={to} className={active(to) ? "active" : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <div className="account">
          {session.credential ? (
            <>
              <span className="who" data-testid="signed-in-as">
                {session.me?.email ?? session.me?.id ?? "…"}
              </span>
              <button type="button" className="button small secondary" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : path !== "/signin" ? (
            <Link to={`/signin?next=${encodeURIComponent(path)}`} className="button small primary">
              Sign in
            </Link>
          ) : null}
        </div>
      </header>
      <main>
        <Page path={path} />
      </main>
      <footer className="footer muted small">
        Ignis — an open GPU network. <a href="/docs/">API docs</a>
      </footer>
    </>
  );
}
