import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MadError } from "../../../shared/errors.js";
import {
  credentialEntry,
  isDockerHub,
  loadCredentials,
  registryCredentialKey,
} from "../../../src-main/engine/build/credentials.js";

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary MAD root, with `credential.json` holding `text` unless it is undefined. */
function madRoot(text?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "madengine-creds-"));
  dirs.push(dir);
  if (text !== undefined) writeFileSync(path.join(dir, "credential.json"), text);
  return dir;
}

const SPEC_FILE = {
  dockerhub: { repository: "myorg/mad", username: "fileuser", password: "filetoken" },
  "localhost:5000": { repository: "mad", username: "reguser", password: "regpass" },
  AMD_GITHUB: { username: "ghuser", password: "ghp_secret_token" },
  PRIVATE_SSH: { username: "gituser", ssh_key_file: "/myworkspace/keys/id_rsa" },
  NAS_NODES: [{ NAME: "nas1", HOST: "10.0.0.5", PORT: "22", USERNAME: "nasuser", PASSWORD: "naspass" }],
  MAD_AWS_S3: { USERNAME: "AKIAEXAMPLE", PASSWORD: "awssecret" },
  PUBLIC_GITHUB_ROCM_KEY: { username: "rocmuser", token: "rocm_token_value" },
};

async function loadError(dir: string, env: NodeJS.ProcessEnv = {}): Promise<MadError> {
  try {
    await loadCredentials(dir, env);
  } catch (error) {
    if (error instanceof MadError) return error;
    throw error;
  }
  throw new Error("expected loadCredentials to fail");
}

describe("loadCredentials", () => {
  it("works without a credential.json", async () => {
    const loaded = await loadCredentials(madRoot(), {});
    expect(loaded).toEqual({ entries: {}, fromFile: false, secretValues: [] });
  });

  it("reads every entry of credential.json", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {});
    expect(loaded.fromFile).toBe(true);
    expect(loaded.entries).toEqual(SPEC_FILE);
  });

  it("lets MAD_DOCKERHUB_USER/PASSWORD override dockerhub and keep its repository", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {
      MAD_DOCKERHUB_USER: "envuser",
      MAD_DOCKERHUB_PASSWORD: "envpassword",
    });
    expect(loaded.entries.dockerhub).toEqual({
      repository: "myorg/mad",
      username: "envuser",
      password: "envpassword",
    });
    expect(loaded.entries["localhost:5000"]).toEqual(SPEC_FILE["localhost:5000"]);
  });

  it("lets MAD_DOCKERHUB_REPO override the repository", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {
      MAD_DOCKERHUB_USER: "envuser",
      MAD_DOCKERHUB_PASSWORD: "envpassword",
      MAD_DOCKERHUB_REPO: "envorg/envrepo",
    });
    expect(loaded.entries.dockerhub).toEqual({
      repository: "envorg/envrepo",
      username: "envuser",
      password: "envpassword",
    });
  });

  it("creates the dockerhub entry from the environment alone", async () => {
    const loaded = await loadCredentials(madRoot(), {
      MAD_DOCKERHUB_USER: "envuser",
      MAD_DOCKERHUB_PASSWORD: "envpassword",
      MAD_DOCKERHUB_REPO: "envorg/envrepo",
    });
    expect(loaded.fromFile).toBe(false);
    expect(loaded.entries).toEqual({
      dockerhub: { username: "envuser", password: "envpassword", repository: "envorg/envrepo" },
    });
    expect(loaded.secretValues).toEqual(["envpassword"]);
  });

  it("needs both user and password to override", async () => {
    const onlyUser = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {
      MAD_DOCKERHUB_USER: "envuser",
    });
    expect(onlyUser.entries.dockerhub).toEqual(SPEC_FILE.dockerhub);
    const onlyPassword = await loadCredentials(madRoot(), { MAD_DOCKERHUB_PASSWORD: "envpassword" });
    expect(onlyPassword.entries).toEqual({});
    const onlyRepo = await loadCredentials(madRoot(), { MAD_DOCKERHUB_REPO: "envorg/envrepo" });
    expect(onlyRepo.entries).toEqual({});
  });

  it("replaces a list-shaped dockerhub entry from the environment", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify({ dockerhub: [{ x: "y" }] })), {
      MAD_DOCKERHUB_USER: "envuser",
      MAD_DOCKERHUB_PASSWORD: "envpassword",
    });
    expect(loaded.entries.dockerhub).toEqual({ username: "envuser", password: "envpassword" });
  });

  it("collects passwords, tokens and keys as secrets, but not user names", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {
      MAD_SECRETS_HFTOKEN: "hf_env_secret",
      MAD_SECRETS: "plain_mad_secret",
      UNRELATED_PASSWORD_VAR: "not_collected",
      HOME: "/home/someone",
    });
    const secrets = loaded.secretValues;
    for (const secret of [
      "filetoken",
      "regpass",
      "ghp_secret_token",
      "naspass",
      "awssecret",
      "rocm_token_value",
      "/myworkspace/keys/id_rsa",
      "hf_env_secret",
      "plain_mad_secret",
    ]) {
      expect(secrets, secret).toContain(secret);
    }
    for (const notSecret of [
      "fileuser",
      "reguser",
      "ghuser",
      "gituser",
      "nasuser",
      "AKIAEXAMPLE",
      "rocmuser",
      "myorg/mad",
      "mad",
      "nas1",
      "10.0.0.5",
      "not_collected",
      "/home/someone",
    ]) {
      expect(secrets, notSecret).not.toContain(notSecret);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it("includes the environment's dockerhub password and drops the file's replaced one", async () => {
    const loaded = await loadCredentials(madRoot(JSON.stringify(SPEC_FILE)), {
      MAD_DOCKERHUB_USER: "envuser",
      MAD_DOCKERHUB_PASSWORD: "envpassword",
    });
    expect(loaded.secretValues).toContain("envpassword");
    expect(loaded.secretValues).not.toContain("envuser");
  });

  it("skips secrets shorter than 3 characters, which would redact too much", async () => {
    const loaded = await loadCredentials(
      madRoot(JSON.stringify({ x: { username: "longuser", password: "pw" } })),
      {
        MAD_SECRETS_SHORT: "ab",
      },
    );
    expect(loaded.secretValues).toEqual([]);
  });

  it("names credential.json and the line of a JSON syntax error", async () => {
    const text = '{\n  "dockerhub": {\n    "username": "u",\n  }\n}\n';
    const error = await loadError(madRoot(text));
    expect(error.message).toContain("credential.json");
    expect(error.message).toMatch(/line 4/);
    expect(error.message).not.toContain(tmpdir());
    expect(error.file).toBe("credential.json");
    expect(error.code).toBe("INVALID_FILE");
  });

  it("names credential.json and the entry of a shape error", async () => {
    const error = await loadError(madRoot(JSON.stringify({ dockerhub: { username: 42 } })));
    expect(error.message).toContain("credential.json");
    expect(error.message).toContain("dockerhub");
    const notObject = await loadError(madRoot(JSON.stringify({ dockerhub: "token" })));
    expect(notObject.message).toContain("credential.json");
    expect(notObject.message).toContain("dockerhub");
  });

  it("rejects an empty credential.json with its name", async () => {
    const error = await loadError(madRoot(""));
    expect(error.message).toContain("credential.json");
  });
});

describe("credential helpers", () => {
  it("recognises Docker Hub in any case", () => {
    for (const registry of ["docker.io", "DOCKER.IO", "dockerhub", "DockerHub", "index.docker.io"]) {
      expect(isDockerHub(registry), registry).toBe(true);
      expect(registryCredentialKey(registry)).toBe("dockerhub");
    }
    for (const registry of ["localhost:5000", "docker.io.example.com", "ghcr.io", "registry-1.docker.io/x"]) {
      expect(isDockerHub(registry), registry).toBe(false);
      expect(registryCredentialKey(registry)).toBe(registry);
    }
  });

  it("returns object entries only", () => {
    const loaded = { entries: { a: { username: "u" }, b: [{ c: 1 }] }, fromFile: true, secretValues: [] };
    expect(credentialEntry(loaded, "a")).toEqual({ username: "u" });
    expect(credentialEntry(loaded, "b")).toBeUndefined();
    expect(credentialEntry(loaded, "missing")).toBeUndefined();
  });
});
