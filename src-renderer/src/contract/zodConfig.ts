import { z } from "zod";

// zod compiles object parsers with `new Function` when it may; the renderer's CSP forbids eval, and
// even zod's guarded probe is reported as a violation. Parse without code generation.
z.config({ jitless: true });
