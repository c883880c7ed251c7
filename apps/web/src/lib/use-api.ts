import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "./api";
import { type ApiProblem, asProblem } from "./problem";

/** A resource read from the API: its data (kept while refreshing), the last error, and a way to reload. */
export interface Resource<T> {
  data: T | undefined;
  error: ApiProblem | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Reads `path` (null: nothing to read yet) and, with `pollMs`, reads it again on that interval while the tab is
 * visible, so lists and device pages stay current without a reload. Data from an older path is never shown.
 */
export function useApi<T>(path: string | null, options: { pollMs?: number } = {}): Resource<T> {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: ApiProblem; loading: boolean }>(
    {
      path,
      loading: path !== null,
    },
  );
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const pathRef = useRef(path);
  pathRef.current = path;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is the reload trigger, read by no code.
  useEffect(() => {
    if (path === null) {
      setState({ path, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((s) => (s.path === path ? { ...s, loading: true } : { path, loading: true }));
    api<T>(path, { signal: controller.signal }).then(
      (data) => {
        if (pathRef.current === path) setState({ path, data, loading: false });
      },
      (error: unknown) => {
        if ((error as Error).name === "AbortError" || pathRef.current !== path) return;
        setState((s) => ({
          path,
          data: s.path === path ? s.data : undefined,
          error: asProblem(error),
          loading: false,
        }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!options.pollMs || path === null) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, options.pollMs);
    return () => window.clearInterval(timer);
  }, [options.pollMs, path, reload]);

  const current = state.path === path;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : path !== null,
    reload,
  };
}

/** Runs a write (POST, PATCH...) and tracks its pending state and error for a form. */
export function useAction<A extends unknown[], R>(run: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiProblem | undefined>();
  const perform = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(undefined);
      try {
        return await run(...args);
      } catch (e) {
        setError(asProblem(e));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [run],
  );
  return { perform, pending, error, clearError: () => setError(undefined) };
}
