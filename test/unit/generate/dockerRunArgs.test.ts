import type { ContainerCreateOptions } from "dockerode";
import { describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import { dockerRunArgs, dockerRunArgv } from "../../../src-main/engine/generate/dockerRunArgs.js";
import {
  buildContainerSpec,
  type ContainerSpecInput,
} from "../../../src-main/engine/run/container/containerSpec.js";
import { parseAdditionalDockerRunOptions } from "../../../src-main/engine/run/container/dockerRunOptions.js";

const ALL_DEVICES = (device: string) =>
  device === "/dev/fuse" || device === "/dev/kfd" || device.startsWith("/dev/dri/");

function spec(overrides: Partial<ContainerSpecInput> = {}): ContainerCreateOptions {
  return buildContainerSpec({
    image: "127.0.0.1:5055/ci-dummy@sha256:abc",
    containerName: "container_ci-dummy",
    model: { name: "dummy" },
    context: { docker_env_vars: { FOO: "a b $HOME" }, docker_mounts: { "/data": "/mnt/data" } },
    vendor: "AMD",
    gpuIds: [0, 1],
    systemFacts: { ngpus: 8, architecture: "gfx942", hipVersion: "6.4" },
    madRootHostPath: "/home/u/MAD",
    cmd: ["sh", "-c", "echo 'performance: 1 x'", "madengine-run"],
    env: { MAD_DATANAME: "set" },
    labels: { "org.madengine.model": "dummy", "org.madengine.image": "ci-dummy" },
    hostDevicesPresent: ALL_DEVICES,
    ...overrides,
  });
}

/** Reads the options back with the run phase's own `docker run` option parser. */
function parseBack(options: string[]) {
  const kept: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const flag = options[i]!;
    if (flag === "--label" || flag === "--workdir" || flag === "--gpus") {
      i++;
      continue;
    }
    kept.push(flag);
    if (flag !== "--privileged") kept.push(JSON.stringify(options[++i]!).replace(/\$/g, "\\$"));
  }
  return parseAdditionalDockerRunOptions(kept.join(" "));
}

describe("dockerRunArgs", () => {
  it("writes an AMD create body as docker run options that read back to the same settings", () => {
    const body = spec();
    const args = dockerRunArgs(body);
    expect(args.name).toBe("container_ci-dummy");
    expect(args.image).toBe("127.0.0.1:5055/ci-dummy@sha256:abc");
    expect(args.command).toEqual(["sh", "-c", "echo 'performance: 1 x'", "madengine-run"]);
    const back = parseBack(args.options);
    const host = body.HostConfig!;
    expect(back.Env).toEqual(body.Env);
    expect(back.Binds).toEqual(host.Binds);
    expect(back.Devices).toEqual(host.Devices);
    expect(back.CapAdd).toEqual(host.CapAdd);
    expect(back.SecurityOpt).toEqual(host.SecurityOpt);
    expect(back.GroupAdd).toEqual(host.GroupAdd);
    expect(back.IpcMode).toBe("host");
    expect(back.NetworkMode).toBe("host");
    expect(back.User).toBe("root");
    expect(args.options).toContain("/dev/kfd:/dev/kfd:rwm");
    expect(args.options).toContain("/dev/dri/renderD129:/dev/dri/renderD129:rwm");
    expect(args.options).toContain("FOO=a b $HOME");
    const labelAt = args.options.indexOf("--label");
    expect(args.options.slice(labelAt, labelAt + 4)).toEqual([
      "--label",
      "org.madengine.image=ci-dummy",
      "--label",
      "org.madengine.model=dummy",
    ]);
    expect(args.options[args.options.indexOf("--workdir") + 1]).toBe("/myworkspace");
  });

  it("writes NVIDIA device requests as --gpus with the quoted device list", () => {
    const args = dockerRunArgs(spec({ vendor: "NVIDIA", gpuIds: [0, 3] }));
    expect(args.options[args.options.indexOf("--gpus") + 1]).toBe('"device=0,3"');
    expect(args.options).toContain("SYS_NICE");
  });

  it("writes a CPU run without GPU options", () => {
    const args = dockerRunArgs(spec({ vendor: "NONE", gpuIds: [] }));
    expect(args.options).not.toContain("--gpus");
    expect(args.options).not.toContain("--device");
    expect(args.options).not.toContain("--cap-add");
  });

  it("translates the model's additional_docker_run_options (sizes, ulimits, privileged, pid, cap-drop)", () => {
    const body = spec({
      model: {
        name: "dummy",
        additional_docker_run_options:
          "--shm-size 16G --memory 1g --ulimit memlock=-1:-1 --privileged --pid host --cap-drop NET_RAW --cpuset-cpus 0-3",
      },
    });
    const options = dockerRunArgs(body).options;
    expect(options).toContain("--privileged");
    expect(options[options.indexOf("--shm-size") + 1]).toBe(`${16 * 1024 ** 3}b`);
    expect(options[options.indexOf("--memory") + 1]).toBe(`${1024 ** 3}b`);
    expect(options[options.indexOf("--ulimit") + 1]).toBe("memlock=-1:-1");
    expect(options[options.indexOf("--pid") + 1]).toBe("host");
    expect(options[options.indexOf("--cap-drop") + 1]).toBe("NET_RAW");
    const back = parseBack(options);
    expect(back.ShmSize).toBe(body.HostConfig!.ShmSize);
    expect(back.Memory).toBe(body.HostConfig!.Memory);
    expect(back.Ulimits).toEqual(body.HostConfig!.Ulimits);
    expect(back.CpusetCpus).toBe("0-3");
  });

  it("puts --name first and the image and command last", () => {
    const argv = dockerRunArgv(spec({ vendor: "NONE", gpuIds: [] }));
    expect(argv.slice(0, 4)).toEqual(["docker", "run", "--name", "container_ci-dummy"]);
    expect(argv.slice(-5)).toEqual([
      "127.0.0.1:5055/ci-dummy@sha256:abc",
      "sh",
      "-c",
      "echo 'performance: 1 x'",
      "madengine-run",
    ]);
  });

  it("refuses a setting it cannot translate instead of dropping it", () => {
    const body = { ...spec(), HostConfig: { ...spec().HostConfig, OomKillDisable: true } };
    expect(() => dockerRunArgs(body)).toThrow(MadError);
    expect(() => dockerRunArgs({ ...spec(), Tty: true })).toThrow(/Tty/);
  });
});
