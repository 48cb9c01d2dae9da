import type { KeyboardEvent } from "react";

/**
 * Roving focus inside a tablist: arrow keys (by orientation), Home and End move focus between the
 * [role=tab] children; the tab that gets focus activates itself (its onFocus), so Tab leaves the list.
 */
export function rovingKeyDown(
  event: KeyboardEvent<HTMLElement>,
  orientation: "horizontal" | "vertical",
): void {
  const nextKey = orientation === "horizontal" ? "ArrowRight" : "ArrowDown";
  const previousKey = orientation === "horizontal" ? "ArrowLeft" : "ArrowUp";
  if (![nextKey, previousKey, "Home", "End"].includes(event.key)) return;
  const tabs = [...event.currentTarget.querySelectorAll<HTMLElement>('[role="tab"]:not([disabled])')];
  if (tabs.length === 0) return;
  const index = tabs.indexOf(document.activeElement as HTMLElement);
  let next = index;
  if (event.key === nextKey) next = (index + 1) % tabs.length;
  else if (event.key === previousKey) next = (index - 1 + tabs.length) % tabs.length;
  else if (event.key === "Home") next = 0;
  else next = tabs.length - 1;
  event.preventDefault();
  tabs[next]?.focus();
}
