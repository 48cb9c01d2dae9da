/**
 * Events the engine emits during long work. Every face (CLI, IPC, web bridge) forwards these; the
 * renderer subscribes to them. Plain data only, so they serialise as they are.
 */

export interface BuildPlannedImage {
  image: string;
  model: string;
  dockerfile: string;
}

export type BuildEvent =
  | { type: "build:planned"; images: BuildPlannedImage[]; failures: { model: string; error: string }[] }
  | { type: "build:start"; image: string; model: string; dockerfile: string; logFile: string }
  | { type: "build:step"; image: string; step: number; totalSteps: number; instruction: string }
  | { type: "build:output"; image: string; text: string }
  | { type: "build:skipped"; image: string; reason: string }
  | { type: "build:done"; image: string; durationSec: number; imageId: string }
  | { type: "build:failed"; image?: string; model: string; error: string }
  | { type: "push:start"; image: string; registryImage: string }
  | { type: "push:done"; image: string; registryImage: string; digest: string }
  | { type: "push:failed"; image: string; registryImage: string; error: string }
  | { type: "log"; level: "info" | "warn"; message: string };

export type BuildEventListener = (event: BuildEvent) => void;

export interface RunPlannedModel {
  model: string;
  image: string;
}

export type RunStatus = "SUCCESS" | "FAILURE" | "SKIPPED";

export type RunEvent =
  | { type: "run:planned"; models: RunPlannedModel[] }
  | { type: "run:image"; model: string; image: string; reference: string; source: string }
  | { type: "run:start"; model: string; image: string; logFile: string; timeoutSec: number | undefined }
  | {
      type: "run:done";
      model: string;
      image: string;
      status: RunStatus;
      performance: string;
      metric: string;
      durationSec: number;
      reason?: string;
      logFile?: string;
    }
  | { type: "run:kept"; model: string; containerId: string; commands: string[] }
  | { type: "log"; level: "info" | "warn"; message: string };

export type RunEventListener = (event: RunEvent) => void;

/** Events of a run dispatched to several nodes: node lifecycle, and each node's run events. */
export type DispatchEvent =
  | { type: "node:connecting"; node: string; address: string }
  | { type: "node:ready"; node: string; docker: string; uploaded: number; unchanged: number }
  | { type: "node:failed"; node: string; error: string; hint?: string }
  | { type: "node:lost"; node: string; reason: string }
  | { type: "node:trusted"; node: string; fingerprint: string; file: string }
  | (RunEvent & { node: string });

export type DispatchEventListener = (event: DispatchEvent) => void;
