import type { NodeHealth } from "../../../../shared/contract/nodes.js";
import type { GpuDevice } from "../../../../shared/schemas/gpu.js";
import { gib, mibAsGib } from "./format.js";

/**
 * A labelled bar: a native <meter> (its role and value are announced; CSP-safe, no inline style)
 * with the figure as text beside it. `high` turns it amber, `optimum` low means lower is better.
 */
export function Bar({
  label,
  value,
  max,
  text,
  high,
}: {
  label: string;
  value: number;
  max: number;
  text: string;
  high?: number;
}) {
  return (
    <div className="bar">
      <span className="bar-label">{label}</span>
      <meter
        aria-label={label}
        min={0}
        max={max}
        value={Math.min(value, max)}
        low={high !== undefined ? high * 0.8 : undefined}
        high={high}
        optimum={0}
      />
      <span className="bar-text">{text}</span>
    </div>
  );
}

function GpuRow({ gpu }: { gpu: GpuDevice }) {
  return (
    <li className="gpu" aria-label={`GPU ${gpu.index}: ${gpu.name}`}>
      <p className="gpu-name">
        <span className="muted">GPU {gpu.index}</span> {gpu.name}
      </p>
      {gpu.utilizationPercent !== undefined ? (
        <Bar
          label="Utilisation"
          value={gpu.utilizationPercent}
          max={100}
          text={`${gpu.utilizationPercent} %`}
          high={90}
        />
      ) : null}
      {gpu.memoryUsedMiB !== undefined && gpu.memoryTotalMiB ? (
        <Bar
          label="Memory"
          value={gpu.memoryUsedMiB}
          max={gpu.memoryTotalMiB}
          text={`${mibAsGib(gpu.memoryUsedMiB)} of ${mibAsGib(gpu.memoryTotalMiB)}`}
          high={gpu.memoryTotalMiB * 0.9}
        />
      ) : null}
      {gpu.temperatureC !== undefined ? (
        <Bar
          label="Temperature"
          value={gpu.temperatureC}
          max={100}
          text={`${gpu.temperatureC} °C`}
          high={85}
        />
      ) : null}
    </li>
  );
}

/** The node's GPUs with their bars, or a truthful "no GPU" (with what the tools said, if anything). */
export function GpuList({ gpus }: { gpus: NonNullable<NodeHealth["gpus"]> }) {
  if (gpus.devices.length === 0) {
    return (
      <div className="gpus gpus-none">
        <p>No GPU found on this node.</p>
        {gpus.problems.length > 0 ? (
          <ul className="muted small">
            {gpus.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        ) : null}
      </div>
    );
  }
  return (
    <div className="gpus">
      <p className="muted small">
        {gpus.devices.length} {gpus.vendor} GPU{gpus.devices.length === 1 ? "" : "s"}
        {gpus.driverVersion ? `, driver ${gpus.driverVersion}` : ""}
        {gpus.runtimeVersion ? `, ${gpus.vendor === "NVIDIA" ? "CUDA" : "ROCm"} ${gpus.runtimeVersion}` : ""}
      </p>
      <ul className="gpu-list">
        {gpus.devices.map((gpu) => (
          <GpuRow key={`${gpu.index}-${gpu.uuid ?? gpu.name}`} gpu={gpu} />
        ))}
      </ul>
    </div>
  );
}

export function DiskBar({ disk }: { disk: NonNullable<NodeHealth["disk"]> }) {
  const used = disk.totalBytes - disk.freeBytes;
  return (
    <Bar
      label="Disk"
      value={used}
      max={disk.totalBytes || 1}
      text={`${gib(disk.freeBytes)} free of ${gib(disk.totalBytes)} (${disk.path})`}
      high={disk.totalBytes * 0.9}
    />
  );
}
