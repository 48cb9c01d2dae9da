/** Shared formatting of the results screen. */

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  return Math.abs(value) >= 1000 ? value.toFixed(0) : Number(value.toPrecision(4)).toString();
}

/** A fixed palette for chart lines and bars (SVG attributes: no CSS variables needed). */
export const SERIES_COLORS = [
  "#5aa2ff",
  "#3fbf7f",
  "#e0b341",
  "#ff6b6b",
  "#b48cff",
  "#4fd1c5",
  "#f78fb3",
  "#a3be8c",
  "#ff9f43",
  "#8395a7",
];

export function colorOf(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length]!;
}
