import { useId, useState } from "react";
import { GPU_VENDORS, GUEST_OSES } from "../../../shared/schemas/context.js";
import { toContractError } from "../contract/errors.js";
import { useContextValidation } from "../state/queries.js";

export interface ContextFormState {
  gpuVendor: string;
  guestOs: string;
  extra: string;
}

export interface ContextForm {
  state: ContextFormState;
  set(patch: Partial<ContextFormState>): void;
  /** The context to send (the JSON object with gpu_vendor / guest_os from the selects), or undefined while invalid. */
  json: string | undefined;
  valid: boolean;
  checking: boolean;
}

/** Merges the extra JSON object with the select fields; undefined when the text is not a JSON object. */
export function mergeContext(extra: string, gpuVendor: string, guestOs: string): string | undefined {
  let parsed: unknown = {};
  if (extra.trim() !== "") {
    try {
      parsed = JSON.parse(extra);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const merged: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
  if (gpuVendor !== "") merged.gpu_vendor = gpuVendor;
  if (guestOs !== "") merged.guest_os = guestOs;
  return JSON.stringify(merged);
}

/** Context form state with live validation of the extra JSON by the engine (context.validate). */
export function useContextForm(
  initial: ContextFormState,
): ContextForm & { validation: ReturnType<typeof useContextValidation> } {
  const [state, setState] = useState(initial);
  const text = state.extra.trim() === "" ? "{}" : state.extra;
  const validation = useContextValidation(text);
  const engineOk = validation.data?.ok === true && !validation.pending;
  const json = mergeContext(state.extra, state.gpuVendor, state.guestOs);
  return {
    state,
    set: (patch) => setState((old) => ({ ...old, ...patch })),
    json: engineOk ? json : undefined,
    valid: engineOk && json !== undefined,
    checking: validation.pending,
    validation,
  };
}

/**
 * gpu_vendor and guest_os selects plus a JSON textarea for everything else in the context, validated
 * live by the engine; the error (with line and column for JSON syntax) is shown under the field.
 * `required`: the build target must be chosen (a build); otherwise the selects may be left to the manifest.
 */
export function ContextFields({
  form,
  required,
  legend = "Context",
}: {
  form: ReturnType<typeof useContextForm>;
  required: boolean;
  legend?: string;
}) {
  const vendorId = useId();
  const osId = useId();
  const extraId = useId();
  const errorId = useId();
  const { state, set, validation } = form;
  const answer = validation.data;
  const callError = validation.error ? toContractError(validation.error) : undefined;
  const engineError = answer && !answer.ok ? answer.error : callError;
  const showError = engineError !== undefined && !validation.pending;
  let overridden: string[] = [];
  if (answer?.ok) {
    overridden = ["gpu_vendor", "guest_os"].filter(
      (key) => key in answer.context && (key === "gpu_vendor" ? state.gpuVendor : state.guestOs) !== "",
    );
  }
  return (
    <fieldset className="context-fields">
      <legend>{legend}</legend>
      <div className="field-row">
        <div className="field">
          <label htmlFor={vendorId}>GPU vendor</label>
          <select
            id={vendorId}
            name="gpu_vendor"
            value={state.gpuVendor}
            onChange={(event) => set({ gpuVendor: event.target.value })}
            required={required}
          >
            {required ? null : <option value="">as built</option>}
            {GPU_VENDORS.map((vendor) => (
              <option key={vendor} value={vendor}>
                {vendor}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={osId}>Guest OS</label>
          <select
            id={osId}
            name="guest_os"
            value={state.guestOs}
            onChange={(event) => set({ guestOs: event.target.value })}
            required={required}
          >
            {required ? null : <option value="">as built</option>}
            {GUEST_OSES.map((os) => (
              <option key={os} value={os}>
                {os}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor={extraId}>
          More context <span className="muted">(JSON object: docker_env_vars, docker_build_arg, …)</span>
        </label>
        <textarea
          id={extraId}
          name="context"
          className="json-input"
          rows={5}
          spellCheck={false}
          value={state.extra}
          onChange={(event) => set({ extra: event.target.value })}
          aria-invalid={showError ? true : undefined}
          aria-describedby={errorId}
          placeholder={'{\n  "docker_env_vars": {"MY_FLAG": "1"}\n}'}
        />
        <div id={errorId} className="field-feedback" aria-live="polite">
          {validation.pending ? (
            <span className="muted">Checking…</span>
          ) : showError ? (
            <div className="field-error" data-testid="context-error">
              <span>{engineError.message}</span>
              {engineError.hint ? <span className="field-hint">{engineError.hint}</span> : null}
            </div>
          ) : answer?.ok ? (
            <span className="field-ok" data-testid="context-ok">
              ✓ valid context
              {overridden.length > 0 ? ` (${overridden.join(" and ")} from the fields above)` : ""}
            </span>
          ) : null}
        </div>
      </div>
    </fieldset>
  );
}
