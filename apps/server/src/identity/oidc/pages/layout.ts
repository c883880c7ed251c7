/** Where the shared stylesheet of the sign-in pages is served. */
export const STYLESHEET_PATH = "/interaction/assets/auth.css";

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A safe HTML fragment; only the page functions in this folder make them. */
export interface Html {
  readonly html: string;
}

/** Tags a template: interpolated values are escaped unless they already are `Html`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    const rendered = Array.isArray(value)
      ? value.map((v) => (isHtml(v) ? v.html : escapeHtml(v))).join("")
      : isHtml(value)
        ? value.html
        : value === undefined || value === null || value === false
          ? ""
          : escapeHtml(value);
    out += rendered + (strings[i + 1] ?? "");
  });
  return { html: out };
}

/** Marks markup produced by oidc-provider (its forms, whose values it escapes itself) as safe. */
export function trusted(markup: string): Html {
  return { html: markup };
}

function isHtml(value: unknown): value is Html {
  return typeof value === "object" && value !== null && typeof (value as Html).html === "string";
}

/** Wraps a page body in the shared document shell. */
export function page(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="strict-origin">
<title>${escapeHtml(title)} · Ignis</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main class="card">
<p class="brand">Ignis</p>
${body.html}
</main>
</body>
</html>
`;
}

/** The stylesheet shared by the sign-in, device and invitation pages. */
export const STYLESHEET = `:root{color-scheme:light dark;--bg:#f4f1ec;--card:#fff;--ink:#1d1b18;--muted:#6b655c;--accent:#d9480f;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--bg:#161412;--card:#221f1c;--ink:#f1ece4;--muted:#a59d91;--accent:#ff7a3d;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
.card{width:min(24rem,calc(100vw - 2rem));background:var(--card);padding:2rem;border-radius:12px;box-shadow:0 2px 12px rgb(0 0 0/.12)}
.brand{margin:0 0 1rem;font-weight:700;letter-spacing:.08em;text-transform:uppercase;color:var(--accent)}
h1{font-size:1.4rem;margin:0 0 1rem}
p{margin:0 0 1rem}
.muted{color:var(--muted);font-size:.9rem}
.error{color:var(--bad);font-weight:600}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;font:inherit;padding:.6rem .7rem;margin:0 0 1rem;border:1px solid var(--muted);border-radius:8px;background:transparent;color:inherit}
input[name=user_code]{text-transform:uppercase;text-align:center;letter-spacing:.15em;font-size:1.3rem}
button{width:100%;font:inherit;font-weight:600;padding:.65rem;border:0;border-radius:8px;background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:transparent;color:var(--muted);margin-top:.5rem}
code.user-code{display:block;text-align:center;font-size:1.6rem;letter-spacing:.15em;margin:0 0 1rem}
`;
