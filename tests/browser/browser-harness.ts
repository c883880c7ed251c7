import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's Chromium, the one browser the suite drives. */
export const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WEB = join(ROOT, "apps/web");
/** Where screenshots of every run go (gitignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/screenshots");
/** Where the README's screenshots live; refreshed when IGNIS_DOCS_SCREENSHOTS=1. */
export const DOCS_SCREENSHOTS = join(ROOT, "docs/screenshots");

/** Why the browser suite cannot run here, or undefined when it can. In CI a missing browser is a failure. */
export function browserSkipReason(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI) throw new Error(`CI is set but ${CHROMIUM} is missing: install Debian's chromium`);
  return `${CHROMIUM} not found (apt-get install chromium); skipping the browser tests`;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds apps/web when its dist/ is missing or older than its sources, so the server serves current code. */
export function ensureWebBuilt(): void {
  const index = join(WEB, "dist/index.html");
  const sources = Math.max(newestMtime(join(WEB, "src")), statSync(join(WEB, "index.html")).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync("npm", ["run", "build", "-w", "apps/web", "--silent"], { cwd: ROOT, stdio: "pipe" });
}

/** Starts headless Chromium with the flags that keep it quiet and self-contained. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Saves a screenshot as a test artifact and, when asked, as the README's current one. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  if (process.env.IGNIS_DOCS_SCREENSHOTS === "1") {
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    copyFileSync(path, join(DOCS_SCREENSHOTS, `${name}.png`));
  }
}
