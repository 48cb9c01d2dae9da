import { visibleWidth } from "./style.js";

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** Columns that may shrink (with an ellipsis) when the terminal is narrow. */
  shrinkable?: boolean;
  minWidth?: number;
}

function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  if (width <= 1) return text.slice(0, width);
  return `${text.slice(0, width - 1)}…`;
}

/**
 * Renders rows as an aligned text table. With `maxWidth` (a TTY's columns), shrinkable columns are
 * cut down, widest first, until the table fits.
 */
export function renderTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  maxWidth?: number,
): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row).replace(/\s*\n\s*/g, " ")));
  const widths = columns.map((column, index) =>
    Math.max(visibleWidth(column.header), ...cells.map((line) => visibleWidth(line[index]!))),
  );
  const gap = 2;
  if (maxWidth !== undefined) {
    let total = widths.reduce((sum, width) => sum + width, 0) + gap * (columns.length - 1);
    while (total > maxWidth) {
      let widest = -1;
      columns.forEach((column, index) => {
        const floor = column.minWidth ?? Math.min(12, visibleWidth(column.header));
        if (column.shrinkable && widths[index]! > floor && (widest < 0 || widths[index]! > widths[widest]!))
          widest = index;
      });
      if (widest < 0) break;
      widths[widest] = widths[widest]! - 1;
      total--;
    }
  }
  const line = (values: readonly string[]) =>
    values
      .map((value, index) => {
        const cell = truncate(value, widths[index]!);
        return index === values.length - 1 ? cell : cell + " ".repeat(widths[index]! - visibleWidth(cell));
      })
      .join(" ".repeat(gap))
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join("\n");
}
