/** The part of vitest's JSON reporter output (its jest-compatible shape) that says what failed. */
export interface VitestJsonReport {
  success?: boolean;
  testResults?: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults?: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

/** One failed test, or a whole file that failed outside its tests (an import error, a hook). */
export interface FailedTest {
  file: string;
  test: string;
  message: string;
}

/**
 * Every failure in a report: each failed test, and each failed file that has no failed test of its own (a
 * failing `beforeAll` or import fails the file while its tests read as skipped). Paths are made relative to
 * `root` so that two runs' lists compare.
 */
export function failuresOf(report: VitestJsonReport, root: string): FailedTest[] {
  const failed: FailedTest[] = [];
  for (const file of report.testResults ?? []) {
    const name = file.name.startsWith(`${root}/`) ? file.name.slice(root.length + 1) : file.name;
    const tests = (file.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const t of tests) {
      failed.push({ file: name, test: t.fullName, message: firstLine(t.failureMessages?.[0] ?? "") });
    }
    if (tests.length === 0 && file.status === "failed") {
      failed.push({ file: name, test: "(the file itself)", message: firstLine(file.message ?? "") });
    }
  }
  return failed;
}

function firstLine(text: string): string {
  return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim().slice(0, 300);
}
