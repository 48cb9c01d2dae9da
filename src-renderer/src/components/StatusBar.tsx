import { useEffect, useState } from "react";
import { useNotificationSetting } from "../state/notifications.js";
import { useClient, useConnectionState, useEngineStatus } from "../state/queries.js";

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  unavailable: "No engine",
} as const;

/** Connection to the engine (web bridge socket or Electron), engine version and Docker status. */
export function StatusBar() {
  const client = useClient();
  const connection = useConnectionState();
  const status = useEngineStatus();
  const docker = status.data?.docker;
  const bridge =
    client.bridge === "electron" ? "desktop" : client.bridge === "web" ? "web bridge" : "no bridge";
  return (
    <div className="status-bar">
      <span className={`badge connection-${connection}`} data-testid="connection-state">
        <span className="dot" aria-hidden="true" />
        {CONNECTION_TEXT[connection]}
        <span className="muted"> ({bridge})</span>
      </span>
      {docker ? (
        <span
          className={`badge ${docker.ok ? "docker-ok" : "docker-down"}`}
          data-testid="docker-state"
          title={docker.endpoint}
        >
          <span className="dot" aria-hidden="true" />
          {docker.ok ? `Docker ${docker.version ?? "ok"}` : "Docker down"}
        </span>
      ) : null}
      <NotificationToggle />
      {status.data ? <span className="muted version">engine {status.data.version}</span> : null}
    </div>
  );
}

/** Turns system notifications for long jobs on (asking the permission) or off. */
function NotificationToggle() {
  const setting = useNotificationSetting();
  if (setting.permission === "unsupported") return null;
  if (setting.permission === "denied") {
    return (
      <span className="muted" title="Allow notifications for this site in the browser's settings">
        Notifications blocked
      </span>
    );
  }
  return (
    <button
      type="button"
      className="link-button"
      aria-pressed={setting.enabled}
      onClick={() => (setting.enabled ? setting.disable() : void setting.enable())}
      title="A notification when a build or run of 10 s or more ends"
    >
      {setting.enabled ? "Notifications on" : "Notify me when jobs end"}
    </button>
  );
}

/** While the event stream is down: a banner with the next retry and a way to retry now. */
export function ConnectionBanner() {
  const client = useClient();
  const connection = useConnectionState();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (connection !== "reconnecting") return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [connection]);
  if (connection === "unavailable") {
    return (
      <div className="banner banner-error" role="alert">
        <strong>Not connected to the engine.</strong> Open the address printed by{" "}
        <code>madengine-cli serve</code> (it carries the access token), or start the desktop app.
      </div>
    );
  }
  if (connection !== "reconnecting") return null;
  const retryAt = client.nextRetryAt();
  const seconds = retryAt === undefined ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
  return (
    <div className="banner banner-warn" role="status">
      <div>
        <strong>Lost the live connection to the engine.</strong> Live logs and progress are paused;{" "}
        {seconds > 0 ? `retrying in ${seconds} s.` : "retrying…"}
      </div>
      <button type="button" onClick={() => client.retryNow()}>
        Retry now
      </button>
    </div>
  );
}

/** Docker unreachable: say so with the engine's hint; everything that does not need Docker still works. */
export function DockerBanner() {
  const status = useEngineStatus();
  const docker = status.data?.docker;
  if (status.error) {
    return null; // the connection banner or the screen's error says it
  }
  if (!docker || docker.ok) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="docker-banner">
      <div>
        <strong>Docker is not reachable.</strong>{" "}
        {docker.error ?? (
          <>
            No answer from <code>{docker.endpoint}</code>.
          </>
        )}
        {docker.hint ? (
          <div className="banner-hint">
            <strong>Fix:</strong> {docker.hint}
          </div>
        ) : null}
        <div className="banner-hint muted">
          You can still browse models, check contexts and read earlier jobs; builds and runs need Docker.
        </div>
      </div>
      <button type="button" onClick={() => void status.refetch()} disabled={status.isFetching}>
        {status.isFetching ? "Checking…" : "Check again"}
      </button>
    </div>
  );
}
