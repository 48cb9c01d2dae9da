import type { ContainerCreateOptions } from "dockerode";
import { describe, expect, it } from "vitest";
import { MadError } from "../../../../shared/errors.js";
import { type Context, contextSchema } from "../../../../shared/schemas/context.js";
import {
  buildContainerSpec,
  type ContainerSpecInput,
  WORKSPACE_PATH,
} from "../../../../src-main/engine/run/container/containerSpec.js";
import { thrown } from "../../../helpers/errors.js";

const RUNNER8 =
  "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= torchrun --nproc_per_node 8 --nnodes 1 --node_rank 0 --master_addr localhost --master_port 6006";

const ALL_DEVICES = (path: string): boolean =>
  path === "/dev/fuse" || path === "/dev/kfd" || path.startsWith("/dev/dri/");

function input(overrides: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    image: "ci-dummy_dummy.ubuntu.amd",
    containerName: "container_ci-dummy_dummy.ubuntu.amd",
    model: { name: "dummy" },
    context: {},
    vendor: "AMD",
    gpuIds: [0],
    systemFacts: { ngpus: 8, architecture: "gfx942", hipVersion: "6.4" },
    madRootHostPath: "/home/u/MAD",
    cmd: ["sleep", "infinity"],
    env: {},
    labels: {},
    hostDevicesPresent: ALL_DEVICES,
    ...overrides,
  };
}

function envOf(spec: ContainerCreateOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of spec.Env ?? []) {
    const eq = entry.indexOf("=");
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

function envKeys(spec: ContainerCreateOptions): string[] {
  return (spec.Env ?? []).map((entry) => entry.slice(0, entry.indexOf("=")));
}

describe("buildContainerSpec: AMD", () => {
  it("matches spec §5.3's example as an API body", () => {
    const spec = buildContainerSpec(
      input({
        model: { name: "dummy_data_local" },
        image: "ci-dummy_data_local_dummy.ubuntu.amd",
        containerName: "container_ci-dummy_data_local_dummy.ubuntu.amd",
        env: { MAD_DATAHOME: "/data_dlm_0", MAD_DATANAME: "dummy_data_local" },
        mounts: [{ host: "/tmp", container: "/data_dlm_0", readOnly: true }],
        labels: { "madengine.run": "r1" },
      }),
    );
    expect(spec).toEqual({
      name: "container_ci-dummy_data_local_dummy.ubuntu.amd",
      Image: "ci-dummy_data_local_dummy.ubuntu.amd",
      Cmd: ["sleep", "infinity"],
      Env: [
        "MAD_MODEL_NAME=dummy_data_local",
        "JENKINS_BUILD_NUMBER=0",
        "MAD_GPU_VENDOR=AMD",
        "MAD_SYSTEM_NGPUS=8",
        "MAD_SYSTEM_GPU_ARCHITECTURE=gfx942",
        "MAD_SYSTEM_HIP_VERSION=6.4",
        "MAD_RUNTIME_NGPUS=1",
        `MAD_MULTI_NODE_RUNNER=${RUNNER8}`,
        "MAD_DATAHOME=/data_dlm_0",
        "MAD_DATANAME=dummy_data_local",
      ],
      Labels: { "madengine.run": "r1" },
      WorkingDir: "/myworkspace",
      User: "root",
      HostConfig: {
        NetworkMode: "host",
        IpcMode: "host",
        GroupAdd: ["video"],
        CapAdd: ["SYS_PTRACE", "SYS_ADMIN"],
        SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
        Devices: [
          { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
          { PathOnHost: "/dev/kfd", PathInContainer: "/dev/kfd", CgroupPermissions: "rwm" },
          {
            PathOnHost: "/dev/dri/renderD128",
            PathInContainer: "/dev/dri/renderD128",
            CgroupPermissions: "rwm",
          },
        ],
        Binds: ["/home/u/MAD:/myworkspace", "/tmp:/data_dlm_0:ro"],
      },
    });
  });

  it("adds one render node per allocated GPU, 128 + id by default", () => {
    const spec = buildContainerSpec(input({ gpuIds: [2, 5] }));
    expect(spec.HostConfig?.Devices.map((d: { PathOnHost: string }) => d.PathOnHost)).toEqual([
      "/dev/fuse",
      "/dev/kfd",
      "/dev/dri/renderD130",
      "/dev/dri/renderD133",
    ]);
    expect(envOf(spec).MAD_RUNTIME_NGPUS).toBe("2");
  });

  it("maps GPU ids through amdRenderNodes, or else context gpu_renderDs", () => {
    const nodes = (spec: ContainerCreateOptions) =>
      spec.HostConfig?.Devices.map((d: { PathOnHost: string }) => d.PathOnHost).slice(2);
    expect(nodes(buildContainerSpec(input({ gpuIds: [0, 1], amdRenderNodes: [136, 128] })))).toEqual([
      "/dev/dri/renderD136",
      "/dev/dri/renderD128",
    ]);
    expect(nodes(buildContainerSpec(input({ gpuIds: [1], context: { gpu_renderDs: [200, 201] } })))).toEqual([
      "/dev/dri/renderD201",
    ]);
    // amdRenderNodes wins over the context
    expect(
      nodes(
        buildContainerSpec(
          input({ gpuIds: [1], amdRenderNodes: [1, 150], context: { gpu_renderDs: [200, 201] } }),
        ),
      ),
    ).toEqual(["/dev/dri/renderD150"]);
  });

  it("fails when gpu_renderDs has no entry for an allocated GPU", () => {
    const error = thrown(() => buildContainerSpec(input({ gpuIds: [3], amdRenderNodes: [128, 129] })));
    expect(error.message).toBe(
      'model "dummy" needs GPU 3, but gpu_renderDs lists render nodes for 2 GPUs only',
    );
  });

  it("leaves /dev/fuse out when the host has none", () => {
    const spec = buildContainerSpec(input({ hostDevicesPresent: (p) => p !== "/dev/fuse" }));
    expect(spec.HostConfig?.Devices.map((d: { PathOnHost: string }) => d.PathOnHost)).toEqual([
      "/dev/kfd",
      "/dev/dri/renderD128",
    ]);
  });

  it("fails clearly when /dev/kfd is missing", () => {
    const error = thrown(() =>
      buildContainerSpec(input({ gpuIds: [0, 1], hostDevicesPresent: (p) => p !== "/dev/kfd" })),
    );
    expect(error.message).toBe(
      'model "dummy" needs 2 GPUs, but /dev/kfd (the ROCm compute device) is missing on this host',
    );
    expect(error.code).toBe("RUN_FAILED");
    expect(error.hint).toMatch(/amdgpu/);
  });

  it("fails clearly when a render node is missing", () => {
    const error = thrown(() =>
      buildContainerSpec(input({ gpuIds: [0, 1], hostDevicesPresent: (p) => p !== "/dev/dri/renderD129" })),
    );
    expect(error.message).toBe(
      'model "dummy" needs 2 GPUs, but /dev/dri/renderD129 (GPU 1) is missing on this host',
    );
  });

  it("asks only for the devices it uses", () => {
    const asked: string[] = [];
    buildContainerSpec(
      input({
        gpuIds: [1],
        hostDevicesPresent: (p) => {
          asked.push(p);
          return true;
        },
      }),
    );
    expect(asked).toEqual(["/dev/fuse", "/dev/kfd", "/dev/dri/renderD129"]);
  });

  it("with no GPUs adds /dev/kfd only if present, and never fails on it", () => {
    const spec = buildContainerSpec(input({ gpuIds: [] }));
    expect(spec.HostConfig?.Devices.map((d: { PathOnHost: string }) => d.PathOnHost)).toEqual([
      "/dev/fuse",
      "/dev/kfd",
    ]);
    expect(envOf(spec).MAD_RUNTIME_NGPUS).toBe("0");
    const bare = buildContainerSpec(input({ gpuIds: [], hostDevicesPresent: () => false }));
    expect(bare.HostConfig?.Devices).toBeUndefined();
  });
});

describe("buildContainerSpec: NVIDIA", () => {
  it("uses a device request for the allocated GPUs", () => {
    const spec = buildContainerSpec(input({ vendor: "NVIDIA", gpuIds: [0, 1] }));
    expect(spec.HostConfig).toEqual({
      NetworkMode: "host",
      IpcMode: "host",
      CapAdd: ["SYS_PTRACE", "SYS_ADMIN", "SYS_NICE"],
      SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
      Devices: [{ PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" }],
      DeviceRequests: [{ Driver: "nvidia", DeviceIDs: ["0", "1"], Capabilities: [["gpu"]] }],
      Binds: ["/home/u/MAD:/myworkspace"],
    });
    expect(spec.User).toBe("root");
    expect(envOf(spec).MAD_GPU_VENDOR).toBe("NVIDIA");
    expect(envOf(spec).MAD_RUNTIME_NGPUS).toBe("2");
  });

  it("keeps host GPU ids as given", () => {
    const spec = buildContainerSpec(input({ vendor: "NVIDIA", gpuIds: [3, 7] }));
    expect(spec.HostConfig?.DeviceRequests?.[0]?.DeviceIDs).toEqual(["3", "7"]);
  });

  it("sends no device request without GPUs, and no /dev/fuse when absent", () => {
    const spec = buildContainerSpec(input({ vendor: "NVIDIA", gpuIds: [], hostDevicesPresent: () => false }));
    expect(spec.HostConfig?.DeviceRequests).toBeUndefined();
    expect(spec.HostConfig?.Devices).toBeUndefined();
  });

  it("never asks for AMD devices", () => {
    const asked: string[] = [];
    buildContainerSpec(
      input({
        vendor: "NVIDIA",
        gpuIds: [0],
        hostDevicesPresent: (p) => {
          asked.push(p);
          return true;
        },
      }),
    );
    expect(asked).toEqual(["/dev/fuse"]);
  });
});

describe("buildContainerSpec: NONE (CPU)", () => {
  it("has host networking and nothing GPU-related", () => {
    const spec = buildContainerSpec(
      input({ vendor: "NONE", gpuIds: [], systemFacts: { ngpus: 0, architecture: "", hipVersion: "" } }),
    );
    expect(spec.HostConfig).toEqual({ NetworkMode: "host", Binds: ["/home/u/MAD:/myworkspace"] });
    expect(spec.User).toBe("root");
    expect(envOf(spec)).toMatchObject({
      MAD_GPU_VENDOR: "NONE",
      MAD_SYSTEM_NGPUS: "0",
      MAD_SYSTEM_GPU_ARCHITECTURE: "",
      MAD_RUNTIME_NGPUS: "0",
    });
    expect(envOf(spec).MAD_MULTI_NODE_RUNNER).toContain("--nproc_per_node 1 ");
  });

  it("never looks at host devices", () => {
    buildContainerSpec(
      input({
        vendor: "NONE",
        gpuIds: [],
        hostDevicesPresent: () => {
          throw new Error("must not be called");
        },
      }),
    );
  });

  it("refuses GPUs for a CPU run", () => {
    expect(() => buildContainerSpec(input({ vendor: "NONE", gpuIds: [0] }))).toThrow(/cannot be given GPUs/);
  });
});

describe("buildContainerSpec: environment", () => {
  it("orders MAD_* first, then the run env, then docker_env_vars", () => {
    const spec = buildContainerSpec(
      input({
        buildNumber: "42",
        env: { MAD_DATAHOME: "/d", DB_USERNAME: "u", ROCBLAS_TRACE: "1" },
        context: { docker_env_vars: { HIP_VISIBLE_DEVICES: "0", NCCL_DEBUG: "INFO" } },
      }),
    );
    expect(envKeys(spec)).toEqual([
      "MAD_MODEL_NAME",
      "JENKINS_BUILD_NUMBER",
      "MAD_GPU_VENDOR",
      "MAD_SYSTEM_NGPUS",
      "MAD_SYSTEM_GPU_ARCHITECTURE",
      "MAD_SYSTEM_HIP_VERSION",
      "MAD_RUNTIME_NGPUS",
      "MAD_MULTI_NODE_RUNNER",
      "MAD_DATAHOME",
      "DB_USERNAME",
      "ROCBLAS_TRACE",
      "HIP_VISIBLE_DEVICES",
      "NCCL_DEBUG",
    ]);
    expect(envOf(spec).JENKINS_BUILD_NUMBER).toBe("42");
  });

  it("lets user docker_env_vars win over everything before, keeping each name once", () => {
    const spec = buildContainerSpec(
      input({
        env: { MAD_DATAHOME: "/d", MAD_SYSTEM_NGPUS: "from-env" },
        context: {
          docker_env_vars: {
            MAD_SYSTEM_GPU_ARCHITECTURE: "gfx90a",
            MAD_DATAHOME: "/mine",
            MAD_SYSTEM_NGPUS: 4,
            MAD_MULTI_NODE_RUNNER: "my-runner",
          },
        },
      }),
    );
    const env = envOf(spec);
    expect(env.MAD_SYSTEM_GPU_ARCHITECTURE).toBe("gfx90a");
    expect(env.MAD_DATAHOME).toBe("/mine");
    expect(env.MAD_SYSTEM_NGPUS).toBe("4");
    expect(env.MAD_MULTI_NODE_RUNNER).toBe("my-runner");
    expect(new Set(envKeys(spec)).size).toBe(envKeys(spec).length);
    // an overridden name keeps its first position
    expect(envKeys(spec).indexOf("MAD_SYSTEM_NGPUS")).toBe(3);
  });

  it("lets the run env override the MAD_* values", () => {
    expect(envOf(buildContainerSpec(input({ env: { MAD_MODEL_NAME: "other" } }))).MAD_MODEL_NAME).toBe(
      "other",
    );
  });

  it("stringifies numbers and booleans from docker_env_vars", () => {
    const env = envOf(
      buildContainerSpec(input({ context: { docker_env_vars: { N: 8, F: 0.5, B: true, Z: false } } })),
    );
    expect(env).toMatchObject({ N: "8", F: "0.5", B: "true", Z: "false" });
  });

  it("drops individual MAD_MULTI_NODE_* variables but keeps the runner ([f6c1])", () => {
    const spec = buildContainerSpec(
      input({
        context: {
          docker_env_vars: {
            MAD_MULTI_NODE_NNODES: "2",
            MAD_MULTI_NODE_MASTER_ADDR: "x",
            MAD_MULTI_NODE_HOST_LIST: "",
            MAD_MULTI_NODEX: "kept",
            OTHER: "kept",
          },
        },
      }),
    );
    const keys = envKeys(spec);
    expect(keys.filter((k) => k.startsWith("MAD_MULTI_NODE_"))).toEqual(["MAD_MULTI_NODE_RUNNER"]);
    expect(keys).toContain("MAD_MULTI_NODEX");
    expect(keys).toContain("OTHER");
  });

  it("builds the runner from multi_node_args merged over the defaults", () => {
    const env = envOf(
      buildContainerSpec(input({ context: { multi_node_args: { NNODES: 2, NODE_RANK: 1 } } })),
    );
    expect(env.MAD_MULTI_NODE_RUNNER).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= torchrun --nproc_per_node 8 --nnodes 2 --node_rank 1 --master_addr localhost --master_port 6006",
    );
    const mpi = envOf(buildContainerSpec(input({ context: { multi_node_args: { RUNNER: "mpirun" } } })));
    expect(mpi.MAD_MULTI_NODE_RUNNER).toBe(
      "NCCL_SOCKET_IFNAME= GLOO_SOCKET_IFNAME= mpirun -np 8 --host localhost:8",
    );
  });

  it("passes values with quotes, $(), backticks and newlines byte for byte", () => {
    const nasty = `it's "quoted" $(touch /tmp/pwn) \`id\` $HOME\nline2\r\n\ttab \\ back ünï 😀 ; | & > <`;
    const spec = buildContainerSpec(
      input({
        model: { name: nasty },
        env: { FROM_ENV: nasty },
        context: { docker_env_vars: { FROM_CONTEXT: nasty } },
      }),
    );
    expect(spec.Env).toContain(`MAD_MODEL_NAME=${nasty}`);
    expect(spec.Env).toContain(`FROM_ENV=${nasty}`);
    expect(spec.Env).toContain(`FROM_CONTEXT=${nasty}`);
    expect(Buffer.from(envOf(spec).FROM_CONTEXT ?? "", "utf8").equals(Buffer.from(nasty, "utf8"))).toBe(true);
  });

  it("keeps = inside values", () => {
    expect(buildContainerSpec(input({ env: { OPTS: "a=b=c" } })).Env).toContain("OPTS=a=b=c");
  });

  it.each([
    [{ env: { "A=B": "x" } }, /run environment: "A=B" is not a valid environment variable name/],
    [{ env: { "": "x" } }, /run environment: "" is not a valid/],
    [{ env: { A: "x\0y" } }, /value of A contains a NUL byte/],
    [{ context: { docker_env_vars: { "X=Y": "1" } } }, /context docker_env_vars: "X=Y" is not a valid/],
  ] as [Partial<ContainerSpecInput>, RegExp][])("rejects bad env %#", (overrides, message) => {
    expect(() => buildContainerSpec(input(overrides))).toThrow(message);
  });

  it("does not mutate its inputs", () => {
    const context: Context = { docker_env_vars: { A: "1" }, docker_mounts: { "/c": "/h" } };
    const env = { B: "2" };
    const labels = { l: "v" };
    const cmd = ["sleep", "1"];
    const snapshot = JSON.stringify({ context, env, labels, cmd });
    const spec = buildContainerSpec(input({ context, env, labels, cmd }));
    spec.Cmd?.push("x");
    if (spec.Labels) spec.Labels.m = "w";
    expect(JSON.stringify({ context, env, labels, cmd })).toBe(snapshot);
  });
});

describe("buildContainerSpec: mounts, CPUs, shm, working dir", () => {
  it("binds the workspace, data mounts, then docker_mounts (container -> host)", () => {
    const spec = buildContainerSpec(
      input({
        mounts: [
          { host: "/datasets/imagenet", container: "/data_dlm_0", readOnly: true },
          { host: "/scratch/mirror", container: "/data_dlm_1", readOnly: false },
        ],
        context: { docker_mounts: { "/root/.cache": "/home/u/.cache", "/models": "/nfs/models" } },
      }),
    );
    expect(spec.HostConfig?.Binds).toEqual([
      "/home/u/MAD:/myworkspace",
      "/datasets/imagenet:/data_dlm_0:ro",
      "/scratch/mirror:/data_dlm_1",
      "/home/u/.cache:/root/.cache",
      "/nfs/models:/models",
    ]);
    expect(WORKSPACE_PATH).toBe("/myworkspace");
  });

  it("lets a later mount of the same container path replace an earlier one", () => {
    const spec = buildContainerSpec(
      input({
        mounts: [{ host: "/a", container: "/data/", readOnly: true }],
        context: { docker_mounts: { "/data": "/b" } },
      }),
    );
    expect(spec.HostConfig?.Binds).toEqual(["/home/u/MAD:/myworkspace", "/b:/data"]);
  });

  it.each([
    [{ madRootHostPath: "MAD" }, /workspace mount: the MAD root "MAD" must be an absolute path/],
    [{ mounts: [{ host: "rel", container: "/d", readOnly: true }] }, /data mount: host path "rel"/],
    [{ context: { docker_mounts: { data: "/h" } } }, /docker_mounts\["data"\]: container path "data"/],
    [{ context: { docker_mounts: { "/d": "./h" } } }, /docker_mounts\["\/d"\]: host path "\.\/h"/],
    [{ context: { docker_mounts: { "/d": "/h:ro" } } }, /without ':'/],
  ] as [Partial<ContainerSpecInput>, RegExp][])("rejects a bad mount %#", (overrides, message) => {
    expect(() => buildContainerSpec(input(overrides))).toThrow(message);
  });

  it("sets CpusetCpus from docker_cpus with spaces removed", () => {
    expect(
      buildContainerSpec(input({ context: { docker_cpus: " 14-18, 32 " } })).HostConfig?.CpusetCpus,
    ).toBe("14-18,32");
    expect(
      buildContainerSpec(input({ context: { docker_cpus: "  " } })).HostConfig?.CpusetCpus,
    ).toBeUndefined();
    const error = thrown(() => buildContainerSpec(input({ context: { docker_cpus: "all" } })));
    expect(error.path).toBe("docker_cpus");
  });

  it("turns SHM_SIZE into ShmSize bytes and drops IpcMode host", () => {
    const spec = buildContainerSpec(input({ context: { SHM_SIZE: "16G" } }));
    expect(spec.HostConfig?.ShmSize).toBe(16 * 1024 ** 3);
    expect(spec.HostConfig?.IpcMode).toBeUndefined();
    const nvidia = buildContainerSpec(input({ vendor: "NVIDIA", context: { SHM_SIZE: "512m" } }));
    expect(nvidia.HostConfig?.ShmSize).toBe(512 * 1024 ** 2);
    expect(nvidia.HostConfig?.IpcMode).toBeUndefined();
    const error = thrown(() => buildContainerSpec(input({ context: { SHM_SIZE: "big" } })));
    expect(error.code).toBe("CONTEXT_INVALID");
    expect(error.path).toBe("SHM_SIZE");
  });

  it("uses the given working directory, else /myworkspace", () => {
    expect(buildContainerSpec(input()).WorkingDir).toBe("/myworkspace");
    expect(buildContainerSpec(input({ workingDir: "/myworkspace/run" })).WorkingDir).toBe("/myworkspace/run");
  });

  it("passes labels, image, name and command through", () => {
    const spec = buildContainerSpec(
      input({
        labels: { "madengine.run-id": "abc", "madengine.model": "dummy" },
        cmd: ["tail", "-f", "/dev/null"],
      }),
    );
    expect(spec.Labels).toEqual({ "madengine.run-id": "abc", "madengine.model": "dummy" });
    expect(spec.Cmd).toEqual(["tail", "-f", "/dev/null"]);
    expect(spec.Image).toBe("ci-dummy_dummy.ubuntu.amd");
    expect(spec.name).toBe("container_ci-dummy_dummy.ubuntu.amd");
  });

  it("accepts a context validated by the schema", () => {
    const context = contextSchema.parse({ gpu_vendor: "AMD", docker_env_vars: { X: 1 }, docker_gpus: "0-3" });
    expect(envOf(buildContainerSpec(input({ context }))).X).toBe("1");
  });
});

describe("buildContainerSpec: additional_docker_run_options", () => {
  it("merges the model's options on top: lists appended, scalars replaced", () => {
    const spec = buildContainerSpec(
      input({
        model: {
          name: "m",
          additional_docker_run_options:
            "--shm-size=16G --ulimit memlock=-1 -e FOO=bar --cap-add=SYS_RAWIO -v /data:/data:ro --ipc=private " +
            "--device=/dev/infiniband --privileged --group-add render --security-opt label=disable " +
            "--cpuset-cpus 0-3 --memory 8g -u nobody --network bridge",
        },
        context: { docker_cpus: "8-15" },
      }),
    );
    const host = spec.HostConfig!;
    expect(host.NetworkMode).toBe("bridge");
    expect(host.IpcMode).toBe("private");
    expect(host.Privileged).toBe(true);
    expect(host.GroupAdd).toEqual(["video", "render"]);
    expect(host.CapAdd).toEqual(["SYS_PTRACE", "SYS_ADMIN", "SYS_RAWIO"]);
    expect(host.SecurityOpt).toEqual(["seccomp=unconfined", "apparmor=unconfined", "label=disable"]);
    expect(host.Devices.map((d: { PathOnHost: string }) => d.PathOnHost)).toEqual([
      "/dev/fuse",
      "/dev/kfd",
      "/dev/dri/renderD128",
      "/dev/infiniband",
    ]);
    expect(host.Binds).toEqual(["/home/u/MAD:/myworkspace", "/data:/data:ro"]);
    expect(host.CpusetCpus).toBe("0-3");
    expect(host.ShmSize).toBe(16 * 1024 ** 3);
    expect(host.Memory).toBe(8 * 1024 ** 3);
    expect(host.Ulimits).toEqual([{ Name: "memlock", Soft: -1, Hard: -1 }]);
    expect(spec.User).toBe("nobody");
    expect(envOf(spec).FOO).toBe("bar");
  });

  it("keeps IpcMode host when the model sets only --shm-size (as the original did)", () => {
    const spec = buildContainerSpec(
      input({ model: { name: "m", additional_docker_run_options: "--shm-size 8g" } }),
    );
    expect(spec.HostConfig?.IpcMode).toBe("host");
    expect(spec.HostConfig?.ShmSize).toBe(8 * 1024 ** 3);
  });

  it("lets model options override context SHM_SIZE and docker_env_vars", () => {
    const spec = buildContainerSpec(
      input({
        model: { name: "m", additional_docker_run_options: "--shm-size 1g -e X=model" },
        context: { SHM_SIZE: "2g", docker_env_vars: { X: "context" } },
      }),
    );
    expect(spec.HostConfig?.ShmSize).toBe(1024 ** 3);
    expect(envOf(spec).X).toBe("model");
    expect(envKeys(spec).filter((k) => k === "X")).toHaveLength(1);
  });

  it("does not repeat capabilities, groups or security options already set", () => {
    const spec = buildContainerSpec(
      input({
        model: {
          name: "m",
          additional_docker_run_options:
            "--cap-add SYS_ADMIN --cap-add CAP_SYS_PTRACE --group-add video --security-opt seccomp=unconfined --device /dev/kfd",
        },
      }),
    );
    expect(spec.HostConfig?.CapAdd).toEqual(["SYS_PTRACE", "SYS_ADMIN"]);
    expect(spec.HostConfig?.GroupAdd).toEqual(["video"]);
    expect(spec.HostConfig?.SecurityOpt).toEqual(["seccomp=unconfined", "apparmor=unconfined"]);
    expect(
      spec.HostConfig?.Devices.filter((d: { PathOnHost: string }) => d.PathOnHost === "/dev/kfd"),
    ).toHaveLength(1);
  });

  it("keeps one ulimit per name, the last one winning", () => {
    const spec = buildContainerSpec(
      input({
        model: {
          name: "m",
          additional_docker_run_options: "--ulimit nofile=1:2 --ulimit stack=8 --ulimit nofile=3:4",
        },
      }),
    );
    expect(spec.HostConfig?.Ulimits).toEqual([
      { Name: "nofile", Soft: 3, Hard: 4 },
      { Name: "stack", Soft: 8, Hard: 8 },
    ]);
  });

  it("lets a model volume replace a mount of the same container path", () => {
    const spec = buildContainerSpec(
      input({
        model: { name: "m", additional_docker_run_options: "-v /fast/cache:/root/.cache" },
        context: { docker_mounts: { "/root/.cache": "/slow/cache" } },
      }),
    );
    expect(spec.HostConfig?.Binds).toEqual(["/home/u/MAD:/myworkspace", "/fast/cache:/root/.cache"]);
  });

  it("ignores blank options", () => {
    expect(buildContainerSpec(input({ model: { name: "m", additional_docker_run_options: "  " } }))).toEqual(
      buildContainerSpec(input({ model: { name: "m" } })),
    );
  });

  it("names the model when its options are invalid", () => {
    const error = thrown(() =>
      buildContainerSpec(input({ model: { name: "bert", additional_docker_run_options: "--rm" } })),
    );
    expect(error.message).toMatch(
      /^model "bert": additional_docker_run_options: unsupported option "--rm"; supported: /,
    );
    expect(error.code).toBe("INVALID_FILE");
    expect(error.path).toBe("additional_docker_run_options");
    expect(error.cause).toBeInstanceOf(MadError);
  });
});
