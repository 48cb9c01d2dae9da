import { type JSX, type KeyboardEvent, useEffect, useRef, useState } from "react";
import type { EventPayload } from "../../shared/contract.js";
import { rovingKeyDown } from "./components/roving.js";
import { ConnectionBanner, DockerBanner, StatusBar } from "./components/StatusBar.js";
import { BuildScreen } from "./screens/BuildScreen.js";
import { ExportScreen } from "./screens/ExportScreen.js";
import { JobsScreen } from "./screens/JobsScreen.js";
import { ModelsScreen } from "./screens/ModelsScreen.js";
import { NodesScreen } from "./screens/NodesScreen.js";
import { ResultsScreen } from "./screens/ResultsScreen.js";
import { RunScreen } from "./screens/RunScreen.js";
import { SCREENS, type ScreenId, useAppState } from "./state/appState.js";
import { useJobEndNotifications } from "./state/notifications.js";
import { useClient, useJobEventsSync } from "./state/queries.js";

const PANELS: Record<ScreenId, () => JSX.Element> = {
  models: ModelsScreen,
  build: BuildScreen,
  run: RunScreen,
  jobs: JobsScreen,
  export: ExportScreen,
  nodes: NodesScreen,
  results: ResultsScreen,
};

/** Alt+1..7 switch screens from anywhere (Alt keeps them clear of typing and of the log's shortcuts). */
function useScreenShortcuts(): void {
  const { setScreen } = useAppState();
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const screen = SCREENS.find((each) => event.code === `Digit${each.key}` || event.key === each.key);
      if (!screen) return;
      event.preventDefault();
      setScreen(screen.id);
      document.getElementById(`tab-${screen.id}`)?.focus();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [setScreen]);
}

interface Notice extends EventPayload<"engine.notice"> {
  id: number;
}

/** engine.notice events as dismissible messages (errors stay until dismissed). */
function Notices() {
  const client = useClient();
  const [notices, setNotices] = useState<Notice[]>([]);
  const next = useRef(0);
  useEffect(
    () =>
      client.on("engine.notice", (notice) => {
        const id = next.current++;
        setNotices((old) => [...old.slice(-4), { ...notice, id }]);
        if (notice.level !== "error") {
          setTimeout(() => setNotices((old) => old.filter((each) => each.id !== id)), 8000);
        }
      }),
    [client],
  );
  if (notices.length === 0) return null;
  return (
    <ul className="notices" aria-live="polite">
      {notices.map((notice) => (
        <li key={notice.id} className={`notice notice-${notice.level}`}>
          <span>{notice.message}</span>
          <button
            type="button"
            className="icon-button"
            aria-label="Dismiss"
            onClick={() => setNotices((old) => old.filter((each) => each.id !== notice.id))}
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

export function App() {
  const { screen, setScreen } = useAppState();
  useJobEventsSync();
  useJobEndNotifications();
  useScreenShortcuts();
  const onNavKey = (event: KeyboardEvent<HTMLDivElement>) => rovingKeyDown(event, "vertical");
  return (
    <div className="app">
      <header className="topbar">
        <h1 className="app-title">
          madengine <span className="muted">Control Center</span>
        </h1>
        <StatusBar />
      </header>
      <ConnectionBanner />
      <DockerBanner />
      <div className="app-body">
        <nav className="nav" aria-label="Screens">
          <div
            role="tablist"
            aria-orientation="vertical"
            aria-label="Screens"
            onKeyDown={onNavKey}
            tabIndex={-1}
          >
            {SCREENS.map((each) => (
              <button
                type="button"
                role="tab"
                id={`tab-${each.id}`}
                key={each.id}
                aria-selected={screen === each.id}
                aria-controls={`panel-${each.id}`}
                tabIndex={screen === each.id ? 0 : -1}
                onClick={() => setScreen(each.id)}
                onFocus={() => setScreen(each.id)}
                aria-keyshortcuts={`Alt+${each.key}`}
                title={`${each.label} (Alt+${each.key})`}
              >
                <span className="nav-label">{each.label}</span>
                <kbd className="nav-key">Alt+{each.key}</kbd>
              </button>
            ))}
          </div>
        </nav>
        <main className="main">
          {SCREENS.map((each) => {
            const Panel = PANELS[each.id];
            // every screen stays mounted (forms keep what was typed); only the current one is shown
            return (
              <section
                key={each.id}
                id={`panel-${each.id}`}
                role="tabpanel"
                aria-labelledby={`tab-${each.id}`}
                hidden={screen !== each.id}
                className="panel-host"
              >
                <Panel />
              </section>
            );
          })}
        </main>
      </div>
      <Notices />
    </div>
  );
}
