/**
 * Parser for `hipconfig --version`, which prints `MAJOR.MINOR.PATCH-GITHASH` with no newline
 * (`7.2.26015-fc0010cf6a`; distro builds print `-9999` for the hash). madengine keeps `major.minor`
 * as MAD_SYSTEM_HIP_VERSION (`hipconfig --version | cut -d'.' -f1,2`, spec §3.3).
 */
import { firstNonEmptyLine, splitLines } from "./values.js";

export interface HipconfigVersion {
  /** `7.2` */
  version?: string;
  /** The whole version as printed, `7.2.53211-9999`. */
  full?: string;
  problems: string[];
}

const VERSION = /(?:^|\s)(\d+)\.(\d+)(?:\.(\d+))?(-[\w.]+)?\s*$/;

/** Takes the last line that is a version, since hipconfig can print warnings before it. */
export function parseHipconfigVersion(text: string): HipconfigVersion {
  const match = splitLines(text)
    .map((line) => VERSION.exec(line.trim()))
    .filter((found) => found !== null)
    .pop();
  if (!match) {
    return { problems: [`hipconfig --version: ${firstNonEmptyLine(text) ?? "no output"}`] };
  }
  return { version: `${match[1]}.${match[2]}`, full: match[0].trim(), problems: [] };
}
