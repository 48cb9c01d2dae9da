import { useId } from "react";
import type { CallResult } from "../../../../shared/contract.js";
import { PERF_STATUSES } from "../../../../shared/schemas/perf.js";

export interface FilterValues {
  model: string;
  tag: string;
  node: string;
  status: string;
  /** yyyy-mm-dd (inclusive days), "" for no bound. */
  from: string;
  to: string;
}

export const NO_FILTERS: FilterValues = { model: "", tag: "", node: "", status: "", from: "", to: "" };

/** The filters as contract arguments (empty fields dropped; days as ISO-8601 bounds). */
export function filterArgs(values: FilterValues) {
  return {
    ...(values.model ? { model: values.model } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
    ...(values.node ? { node: values.node } : {}),
    ...(values.status ? { status: values.status as (typeof PERF_STATUSES)[number] } : {}),
    ...(values.from ? { since: `${values.from}T00:00:00.000Z` } : {}),
    ...(values.to ? { until: `${values.to}T23:59:59.999Z` } : {}),
  };
}

function Choice({
  label,
  value,
  options,
  onChange,
  name,
}: {
  label: string;
  value: string;
  options: readonly string[];
  onChange(value: string): void;
  name: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">All</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </div>
  );
}

export function ResultsFilters({
  values,
  facets,
  onChange,
}: {
  values: FilterValues;
  facets: CallResult<"results.facets"> | undefined;
  onChange(values: FilterValues): void;
}) {
  const id = useId();
  const set = (patch: Partial<FilterValues>) => onChange({ ...values, ...patch });
  return (
    <fieldset className="results-filters panel">
      <legend>Filters</legend>
      <Choice
        label="Model"
        name="model"
        value={values.model}
        options={facets?.models ?? []}
        onChange={(model) => set({ model })}
      />
      <Choice
        label="Tag"
        name="tag"
        value={values.tag}
        options={facets?.tags ?? []}
        onChange={(tag) => set({ tag })}
      />
      <Choice
        label="Node"
        name="node"
        value={values.node}
        options={facets?.nodes ?? []}
        onChange={(node) => set({ node })}
      />
      <Choice
        label="Status"
        name="status"
        value={values.status}
        options={PERF_STATUSES}
        onChange={(status) => set({ status })}
      />
      <div className="field">
        <label htmlFor={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="date"
          value={values.from}
          onChange={(event) => set({ from: event.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-to`}>To</label>
        <input
          id={`${id}-to`}
          type="date"
          value={values.to}
          onChange={(event) => set({ to: event.target.value })}
        />
      </div>
      <button type="button" onClick={() => onChange(NO_FILTERS)}>
        Clear filters
      </button>
    </fieldset>
  );
}
