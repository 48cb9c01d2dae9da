import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";

/** UI state shared by the screens (not server state: that lives in react-query). */

export const SCREENS = [
  { id: "models", label: "Models", key: "1" },
  { id: "build", label: "Build", key: "2" },
  { id: "run", label: "Run", key: "3" },
  { id: "jobs", label: "Jobs", key: "4" },
  { id: "export", label: "Export", key: "5" },
  { id: "nodes", label: "Nodes", key: "6" },
  { id: "results", label: "Results", key: "7" },
] as const;
export type ScreenId = (typeof SCREENS)[number]["id"];

export interface AppState {
  screen: ScreenId;
  setScreen(screen: ScreenId): void;
  /** The MAD root typed by the user; "" means the engine's default (the bundled zoo). */
  madRoot: string;
  setMadRoot(root: string): void;
  /** Selected model names (full names, e.g. family/model_a), in zoo order when built. */
  selection: ReadonlySet<string>;
  setSelection(selection: ReadonlySet<string>): void;
  /** The job each job screen shows. */
  buildJobId: string | undefined;
  runJobId: string | undefined;
  showJob(kind: "build" | "run", id: string): void;
  /** A manifest to preselect on the Run screen (from a finished build). */
  runManifest: string | undefined;
  runWithManifest(file: string): void;
  /** What the Run screen runs: a manifest file or the current selection (built first). */
  runSource: "manifest" | "selection";
  setRunSource(source: "manifest" | "selection"): void;
  /** Opens the Run screen set to run the selection. */
  runSelected(): void;
}

const AppStateContext = createContext<AppState | null>(null);

export function AppStateProvider({ children }: { children: ReactNode }) {
  const [screen, setScreen] = useState<ScreenId>("models");
  const [madRoot, setMadRootState] = useState("");
  const [selection, setSelection] = useState<ReadonlySet<string>>(new Set());
  const [buildJobId, setBuildJobId] = useState<string>();
  const [runJobId, setRunJobId] = useState<string>();
  const [runManifest, setRunManifest] = useState<string>();
  const [runSource, setRunSource] = useState<"manifest" | "selection">("manifest");

  const setMadRoot = useCallback((root: string) => {
    setMadRootState(root);
    setSelection(new Set()); // names belong to a zoo
  }, []);
  const showJob = useCallback((kind: "build" | "run", id: string) => {
    if (kind === "build") setBuildJobId(id);
    else setRunJobId(id);
    setScreen(kind);
  }, []);
  const runWithManifest = useCallback((file: string) => {
    setRunManifest(file);
    setRunSource("manifest");
    setScreen("run");
  }, []);
  const runSelected = useCallback(() => {
    setRunSource("selection");
    setScreen("run");
  }, []);

  const value = useMemo<AppState>(
    () => ({
      screen,
      setScreen,
      madRoot,
      setMadRoot,
      selection,
      setSelection,
      buildJobId,
      runJobId,
      showJob,
      runManifest,
      runWithManifest,
      runSource,
      setRunSource,
      runSelected,
    }),
    [
      screen,
      madRoot,
      setMadRoot,
      selection,
      buildJobId,
      runJobId,
      showJob,
      runManifest,
      runWithManifest,
      runSource,
      runSelected,
    ],
  );
  return <AppStateContext.Provider value={value}>{children}</AppStateContext.Provider>;
}

export function useAppState(): AppState {
  const state = useContext(AppStateContext);
  if (!state) throw new Error("useAppState outside <AppStateProvider>");
  return state;
}
