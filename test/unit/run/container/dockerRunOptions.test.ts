import { describe, expect, it } from "vitest";
import {
  parseAdditionalDockerRunOptions,
  parseByteSize,
  parseUlimit,
  SUPPORTED_DOCKER_RUN_OPTIONS,
  splitShellWords,
} from "../../../../src-main/engine/run/container/dockerRunOptions.js";
import { thrown } from "../../../helpers/errors.js";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe("splitShellWords", () => {
  it("splits on blanks, collapsing runs of them", () => {
    expect(splitShellWords("  a  b\tc\nd  ")).toEqual(["a", "b", "c", "d"]);
    expect(splitShellWords("")).toEqual([]);
    expect(splitShellWords(" \t\n ")).toEqual([]);
  });

  it("keeps single-quoted text literally, backslashes included", () => {
    expect(splitShellWords("'a b' 'c\\d' 'e\"f'")).toEqual(["a b", "c\\d", 'e"f']);
  });

  it("handles double quotes and their four escapes", () => {
    expect(splitShellWords('"a b" "c\\"d" "e\\\\f" "g\\$h" "i\\`j" "k\\nl"')).toEqual([
      "a b",
      'c"d',
      "e\\f",
      "g$h",
      "i`j",
      "k\\nl",
    ]);
  });

  it("joins adjacent quoted and bare parts into one word", () => {
    expect(splitShellWords(`FOO="a b"'c d'e`)).toEqual(["FOO=a bc de"]);
    expect(splitShellWords(`--env=X='1 2'`)).toEqual(["--env=X=1 2"]);
  });

  it("makes empty quotes an empty word", () => {
    expect(splitShellWords(`a '' "" b`)).toEqual(["a", "", "", "b"]);
  });

  it("treats a backslash outside quotes as a literal next character", () => {
    expect(splitShellWords("a\\ b c\\'d \\\\")).toEqual(["a b", "c'd", "\\"]);
  });

  it("removes backslash-newline (line continuation) outside and inside double quotes", () => {
    expect(splitShellWords("--ipc=host \\\n--privileged")).toEqual(["--ipc=host", "--privileged"]);
    expect(splitShellWords('ab\\\ncd "x\\\ny"')).toEqual(["abcd", "xy"]);
    expect(splitShellWords("\\\n")).toEqual([]);
  });

  it("never expands $, backticks, ~, globs or comments, and keeps operators literal", () => {
    // "$" + "{" keeps the text literal without tripping the template-string lint
    const braced = "$" + "{X:-y}";
    expect(splitShellWords(`$HOME ${braced} $(id) \`id\` ~ *.sh # a;b|c&&d >e`)).toEqual([
      "$HOME",
      braced,
      "$(id)",
      "`id`",
      "~",
      "*.sh",
      "#",
      "a;b|c&&d",
      ">e",
    ]);
    expect(splitShellWords(`"$HOME $(id)"`)).toEqual(["$HOME $(id)"]);
  });

  it("keeps newlines inside quotes", () => {
    expect(splitShellWords("'a\nb' \"c\nd\"")).toEqual(["a\nb", "c\nd"]);
  });

  it("keeps non-ASCII text", () => {
    expect(splitShellWords("模型 'ü b' \"😀\"")).toEqual(["模型", "ü b", "😀"]);
  });

  it.each([
    ["'abc", /unterminated single quote at character 1/],
    ['a "b', /unterminated double quote at character 3/],
    ['"a\\"', /unterminated double quote/],
    ["abc\\", /trailing backslash at character 4/],
  ])("rejects %j", (text, message) => {
    expect(() => splitShellWords(text)).toThrow(message);
  });
});

describe("parseByteSize", () => {
  it.each([
    ["16G", 16 * GiB],
    ["16g", 16 * GiB],
    ["16GB", 16 * GiB],
    ["16GiB", 16 * GiB],
    ["512m", 512 * MiB],
    ["512M", 512 * MiB],
    ["64k", 64 * 1024],
    ["1t", 1024 ** 4],
    ["1p", 1024 ** 5],
    ["1024", 1024],
    ["100b", 100],
    ["1.5g", 1.5 * GiB],
    ["1.5k", 1536],
    ["0.1k", 102],
    [" 2 g ", 2 * GiB],
  ])("%j = %d bytes", (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(["", "g", "16x", "-1g", "1,5g", "16 GBs", "0", "0g", "16i", "1e3", "99999999999p"])(
    "rejects %j naming it",
    (text) => {
      expect(thrown(() => parseByteSize(text)).message).toContain(JSON.stringify(text));
    },
  );
});

describe("parseUlimit", () => {
  it("reads soft and hard limits; one value sets both", () => {
    expect(parseUlimit("memlock=-1")).toEqual({ Name: "memlock", Soft: -1, Hard: -1 });
    expect(parseUlimit("memlock=-1:-1")).toEqual({ Name: "memlock", Soft: -1, Hard: -1 });
    expect(parseUlimit("stack=67108864")).toEqual({ Name: "stack", Soft: 67108864, Hard: 67108864 });
    expect(parseUlimit("nofile=1024:2048")).toEqual({ Name: "nofile", Soft: 1024, Hard: 2048 });
    expect(parseUlimit("nofile=1024:-1")).toEqual({ Name: "nofile", Soft: 1024, Hard: -1 });
  });

  it.each([
    ["memlock", /not <name>=<soft>/],
    ["memlock=", /not <name>=<soft>/],
    ["memlock=a", /not <name>=<soft>/],
    ["bogus=1", /unknown limit "bogus"/],
    ["nofile=2048:1024", /soft limit must not exceed the hard limit/],
    ["nofile=-1:1024", /soft limit must not exceed the hard limit/],
    ["nofile=-2", /whole numbers, or -1/],
  ])("rejects %j", (text, message) => {
    expect(() => parseUlimit(text)).toThrow(message);
  });
});

describe("parseAdditionalDockerRunOptions", () => {
  it("parses the brief's full example", () => {
    const text =
      "--shm-size=16G --ulimit memlock=-1 -e FOO=bar --cap-add=SYS_RAWIO -v /data:/data:ro --ipc=host " +
      "--device=/dev/infiniband --privileged --group-add render --security-opt seccomp=unconfined " +
      "--cpuset-cpus 0-3 --memory 8g -u root --network host";
    expect(parseAdditionalDockerRunOptions(text)).toEqual({
      ShmSize: 16 * GiB,
      Ulimits: [{ Name: "memlock", Soft: -1, Hard: -1 }],
      Env: ["FOO=bar"],
      CapAdd: ["SYS_RAWIO"],
      Binds: ["/data:/data:ro"],
      IpcMode: "host",
      Devices: [
        { PathOnHost: "/dev/infiniband", PathInContainer: "/dev/infiniband", CgroupPermissions: "rwm" },
      ],
      Privileged: true,
      GroupAdd: ["render"],
      SecurityOpt: ["seccomp=unconfined"],
      CpusetCpus: "0-3",
      Memory: 8 * GiB,
      User: "root",
      NetworkMode: "host",
    });
  });

  it("returns nothing for an empty or blank text", () => {
    expect(parseAdditionalDockerRunOptions("")).toEqual({});
    expect(parseAdditionalDockerRunOptions("  \n ")).toEqual({});
  });

  it("accepts --flag value and --flag=value alike", () => {
    expect(parseAdditionalDockerRunOptions("--shm-size 1g")).toEqual(
      parseAdditionalDockerRunOptions("--shm-size=1g"),
    );
    expect(parseAdditionalDockerRunOptions("--env A=1")).toEqual(
      parseAdditionalDockerRunOptions("--env=A=1"),
    );
    expect(parseAdditionalDockerRunOptions("--volume /a:/b")).toEqual({ Binds: ["/a:/b"] });
  });

  it("accepts short forms as -e VALUE, -eVALUE and -e=VALUE", () => {
    expect(parseAdditionalDockerRunOptions("-e A=1 -eB=2 -e=C=3")).toEqual({ Env: ["A=1", "B=2", "C=3"] });
    expect(parseAdditionalDockerRunOptions("-v /a:/b -u 1000:1000 -m 512m")).toEqual({
      Binds: ["/a:/b"],
      User: "1000:1000",
      Memory: 512 * MiB,
    });
    expect(parseAdditionalDockerRunOptions("--user=nobody").User).toBe("nobody");
  });

  it("accepts --net as an alias of --network", () => {
    expect(parseAdditionalDockerRunOptions("--net=bridge")).toEqual({ NetworkMode: "bridge" });
  });

  it("accumulates list options and keeps the last scalar", () => {
    expect(
      parseAdditionalDockerRunOptions(
        "-e A=1 --env B=2 --cap-add IPC_LOCK --cap-add SYS_NICE --ipc=host --ipc=private",
      ),
    ).toEqual({ Env: ["A=1", "B=2"], CapAdd: ["IPC_LOCK", "SYS_NICE"], IpcMode: "private" });
  });

  it("keeps quoted env values, with $ and backticks literal", () => {
    expect(
      parseAdditionalDockerRunOptions(`-e "MSG=hello world" -e 'P=$PATH:\`id\`' -e X="a\\"b" -e EMPTY=`).Env,
    ).toEqual(["MSG=hello world", "P=$PATH:`id`", 'X=a"b', "EMPTY="]);
  });

  it("handles --privileged as a boolean", () => {
    expect(parseAdditionalDockerRunOptions("--privileged")).toEqual({ Privileged: true });
    expect(parseAdditionalDockerRunOptions("--privileged=false")).toEqual({ Privileged: false });
    expect(() => parseAdditionalDockerRunOptions("--privileged=yes")).toThrow(/expected true or false/);
    // the space form does not take a value, as in docker: "true" is then a stray word
    expect(() => parseAdditionalDockerRunOptions("--privileged true")).toThrow(/unexpected word "true"/);
  });

  it("reads devices with container paths and permissions", () => {
    expect(
      parseAdditionalDockerRunOptions("--device /dev/a:/dev/b --device /dev/c:r --device=/dev/d:/dev/e:rw")
        .Devices,
    ).toEqual([
      { PathOnHost: "/dev/a", PathInContainer: "/dev/b", CgroupPermissions: "rwm" },
      { PathOnHost: "/dev/c", PathInContainer: "/dev/c", CgroupPermissions: "r" },
      { PathOnHost: "/dev/d", PathInContainer: "/dev/e", CgroupPermissions: "rw" },
    ]);
  });

  it("removes spaces from --cpuset-cpus", () => {
    expect(parseAdditionalDockerRunOptions("--cpuset-cpus '0-3, 8'")).toEqual({ CpusetCpus: "0-3,8" });
  });

  it("supports --cap-drop and --pid", () => {
    expect(parseAdditionalDockerRunOptions("--cap-drop NET_RAW --pid=host")).toEqual({
      CapDrop: ["NET_RAW"],
      PidMode: "host",
    });
  });

  it("accepts named volumes and mount options", () => {
    expect(parseAdditionalDockerRunOptions("-v cache:/root/.cache -v /x:/y:ro,z").Binds).toEqual([
      "cache:/root/.cache",
      "/x:/y:ro,z",
    ]);
  });

  it("rejects an unsupported flag, naming it and listing the supported ones", () => {
    const error = thrown(() => parseAdditionalDockerRunOptions("--shm-size=1g --rm"));
    expect(error.message).toContain('unsupported option "--rm"');
    for (const flag of [
      "--shm-size",
      "--ulimit",
      "--env (-e)",
      "--volume (-v)",
      "--user (-u)",
      "--network (--net)",
    ]) {
      expect(error.message).toContain(flag);
    }
    expect(error.code).toBe("INVALID_FILE");
    expect(error.path).toBe("additional_docker_run_options");
    expect(SUPPORTED_DOCKER_RUN_OPTIONS).toContain("--memory (-m)");
  });

  it.each([
    "--gpus all",
    "-it",
    "-d",
    "--workdir /x",
    "--entrypoint sh",
    "--env-file x",
    "-p 80:80",
    "--name x",
  ])("rejects %j", (text) => {
    expect(() => parseAdditionalDockerRunOptions(text)).toThrow(/unsupported option/);
  });

  it("rejects stray words and shell syntax instead of passing them to a shell", () => {
    expect(() => parseAdditionalDockerRunOptions("--ipc=host; rm -rf /")).toThrow(/unexpected word "rm"/);
    expect(() => parseAdditionalDockerRunOptions("--ipc=host && id")).toThrow(/unexpected word "&&"/);
    expect(() => parseAdditionalDockerRunOptions("$(id)")).toThrow(/unexpected word "\$\(id\)"/);
    expect(() => parseAdditionalDockerRunOptions("-- --ipc=host")).toThrow(/unexpected word "--"/);
    expect(() => parseAdditionalDockerRunOptions("-")).toThrow(/unexpected word "-"/);
  });

  it("keeps shell operators inside a value literal", () => {
    expect(parseAdditionalDockerRunOptions("-e 'A=x; rm -rf / && $(id)'").Env).toEqual([
      "A=x; rm -rf / && $(id)",
    ]);
  });

  it("says when a value is missing", () => {
    expect(() => parseAdditionalDockerRunOptions("--shm-size")).toThrow(/--shm-size needs a value/);
    expect(() => parseAdditionalDockerRunOptions("-e")).toThrow(/-e needs a value/);
    expect(() => parseAdditionalDockerRunOptions("--ipc --privileged")).toThrow(
      /--ipc needs a value, found the option "--privileged"/,
    );
    expect(() => parseAdditionalDockerRunOptions("--ipc=")).toThrow(/--ipc needs a non-empty value/);
  });

  it("reports quoting errors as option errors", () => {
    const error = thrown(() => parseAdditionalDockerRunOptions("-e 'A=1"));
    expect(error.message).toMatch(/^additional_docker_run_options: unterminated single quote/);
    expect(error.code).toBe("INVALID_FILE");
  });

  it.each([
    ["-e FOO", /no value: host variables are not forwarded/],
    ["-e =x", /no variable name/],
    ["-v /data", /not <host path>:<container path>/],
    ["-v ./data:/data", /not an absolute path or a volume name/],
    ["-v /a:b", /container path must be absolute/],
    ["-v /a:/b:bogus", /unknown mount option/],
    ["-v /a:/b:ro:x", /not <host path>:<container path>/],
    ["--device dev/x", /not <host device>/],
    ["--device /dev/x:/dev/y:abc", /not <host device>/],
    ["--shm-size=lots", /--shm-size: "lots" is not a size/],
    ["--memory 0", /more than 0 bytes/],
    ["--ulimit nofile", /not <name>=<soft>/],
    ["--cpuset-cpus a-b", /not a CPU list/],
    ["--security-opt seccomp=/etc/profile.json", /seccomp profile files are not supported/],
  ])("rejects %j", (text, message) => {
    expect(() => parseAdditionalDockerRunOptions(text)).toThrow(message);
  });

  it("allows seccomp=unconfined and other security options", () => {
    expect(
      parseAdditionalDockerRunOptions(
        "--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt no-new-privileges",
      ).SecurityOpt,
    ).toEqual(["seccomp=unconfined", "apparmor=unconfined", "no-new-privileges"]);
  });
});
