/** One page a test browser landed on. */
export interface BrowserPage {
  url: string;
  status: number;
  body: string;
}

/** A minimal browser for tests: a cookie jar (honouring Path), manual redirects, and HTML form submission. */
export interface TestBrowser {
  /** Opens a URL and follows redirects until a page answers, or until `stopAt` says the next hop is the end. */
  open(url: string, init?: { method?: string; form?: Record<string, string> }): Promise<BrowserPage>;
  /** Submits the form with this id (or the first form) on a page, overriding or adding fields. */
  submit(page: BrowserPage, fields?: Record<string, string>, formId?: string): Promise<BrowserPage>;
  /** The redirect target the browser stopped at (see `stopAt`), if any. */
  stoppedAt: string | undefined;
}

/**
 * Creates a test browser; `stopAt` marks URLs it must not follow (an app's redirect URI), `headers` go with
 * every request (an `x-forwarded-for` naming the client behind a trusted proxy, for example).
 */
export function createTestBrowser(
  stopAt: (url: string) => boolean = () => false,
  headers: Record<string, string> = {},
): TestBrowser {
  const jar = new Map<string, { name: string; value: string; path: string }>();

  const cookieHeader = (url: URL) =>
    [...jar.values()]
      .filter(
        (c) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");

  const store = (url: URL, setCookies: string[]) => {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attributes.find((a) => a.toLowerCase().startsWith("path="));
      const path = pathAttr ? pathAttr.slice(5) : url.pathname.replace(/\/[^/]*$/, "") || "/";
      const expired = attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a) || /^max-age=0$/i.test(a));
      const key = `${name}@${path}`;
      if (expired || value === "") jar.delete(key);
      else jar.set(key, { name, value, path });
    }
  };

  const browser: TestBrowser = {
    stoppedAt: undefined,
    async open(start, init = {}) {
      let url = new URL(start);
      let method = init.method ?? (init.form ? "POST" : "GET");
      let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
      for (let hop = 0; hop < 15; hop++) {
        const response = await fetch(url, {
          method,
          redirect: "manual",
          headers: {
            ...headers,
            accept: "text/html",
            cookie: cookieHeader(url),
            ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          },
          body,
        });
        store(url, response.headers.getSetCookie());
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          await response.arrayBuffer();
          const next = new URL(location, url);
          if (stopAt(next.href)) {
            browser.stoppedAt = next.href;
            return { url: next.href, status: response.status, body: "" };
          }
          url = next;
          method = "GET";
          body = undefined;
          continue;
        }
        return { url: url.href, status: response.status, body: await response.text() };
      }
      throw new Error(`too many redirects from ${start}`);
    },
    async submit(page, fields = {}, formId) {
      const form = findForm(page.body, formId);
      const action = new URL(form.action || page.url, page.url).href;
      return browser.open(action, { method: form.method, form: { ...form.fields, ...fields } });
    },
  };
  return browser;
}

const attr = (tag: string, name: string) =>
  new RegExp(`\\s${name}="([^"]*)"`, "i").exec(tag)?.[1]?.replaceAll("&amp;", "&").replaceAll("&quot;", '"');

function findForm(
  html: string,
  formId?: string,
): { action: string; method: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);
  const form = formId ? forms.find((f) => attr(f.slice(0, f.indexOf(">")), "id") === formId) : forms[0];
  if (!form) throw new Error(`no form${formId ? ` #${formId}` : ""} on the page:\n${html.slice(0, 2000)}`);
  const open = form.slice(0, form.indexOf(">") + 1);
  const fields: Record<string, string> = {};
  for (const [input] of form.matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input, "name");
    if (name) fields[name] = attr(input, "value") ?? "";
  }
  return {
    action: attr(open, "action") ?? "",
    method: (attr(open, "method") ?? "GET").toUpperCase(),
    fields,
  };
}
