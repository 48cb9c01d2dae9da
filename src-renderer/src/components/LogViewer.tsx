import {
  type KeyboardEvent,
  memo,
  type ReactNode,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { parseAnsi, plainText, type Segment } from "../logs/ansi.js";
import type { LineStore } from "../logs/lineStore.js";
import { LogSearch } from "../logs/search.js";
import { copyText, downloadBlob } from "./download.js";

/** Must match --log-row-height in app.css: rows have a fixed height so any line's position is known. */
export const ROW_HEIGHT = 18;
/** Browsers cap an element's height (Chromium ~33.5M px, Firefox ~17.9M px): beyond this the scrollbar is scaled. */
const MAX_SCROLL_HEIGHT = 15_000_000;
/** Rows rendered beyond the viewport on each side. */
const OVERSCAN = 4;

export interface LogViewerProps {
  store: LineStore;
  /** Accessible name of the log, e.g. "Build log of dummy". */
  label: string;
  /** File name offered by Save. */
  fileName: string;
  /** Shown in the footer (loading, live, complete...). */
  status?: ReactNode;
  /** What to say when the log has no lines yet. */
  emptyText?: string;
}

/** The store's line count, updated at most once per animation frame however fast lines arrive. */
function useFrameBatchedLength(store: LineStore): number {
  const [length, setLength] = useState(store.length);
  useEffect(() => {
    let frame = 0;
    const update = () => {
      frame = 0;
      setLength(store.length);
    };
    const unsubscribe = store.subscribe(() => {
      if (frame === 0) frame = requestAnimationFrame(update);
    });
    setLength(store.length);
    return () => {
      unsubscribe();
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, [store]);
  return length;
}

interface Geometry {
  maxScroll: number;
  realMax: number;
  virtualHeight: number;
}

function geometry(count: number, viewport: number): Geometry {
  const content = count * ROW_HEIGHT;
  const virtualHeight = Math.min(content, MAX_SCROLL_HEIGHT);
  return {
    virtualHeight,
    maxScroll: Math.max(0, virtualHeight - viewport),
    realMax: Math.max(0, content - viewport),
  };
}

/** Content offset (px) shown at a scroll position, and back: identical until the scrollbar is scaled. */
function toReal(scrollTop: number, g: Geometry): number {
  return g.maxScroll > 0 ? (Math.min(scrollTop, g.maxScroll) * g.realMax) / g.maxScroll : 0;
}
function toScroll(real: number, g: Geometry): number {
  return g.realMax > 0 ? (Math.max(0, Math.min(real, g.realMax)) * g.maxScroll) / g.realMax : 0;
}

function highlight(segments: Segment[], matches: number[], length: number, currentCol: number): ReactNode[] {
  const out: ReactNode[] = [];
  let position = 0;
  let m = 0;
  for (const segment of segments) {
    const segmentEnd = position + segment.text.length;
    let cursor = position;
    const piece = (from: number, to: number, match: boolean, current: boolean) => {
      const text = segment.text.slice(from - position, to - position);
      if (!match) {
        out.push(
          segment.className ? (
            <span key={out.length} className={segment.className}>
              {text}
            </span>
          ) : (
            text
          ),
        );
      } else {
        const className = `log-match${current ? " log-match-current" : ""}${segment.className ? ` ${segment.className}` : ""}`;
        out.push(
          <mark key={out.length} className={className}>
            {text}
          </mark>,
        );
      }
    };
    while (cursor < segmentEnd) {
      while (m < matches.length && matches[m]! + length <= cursor) m++;
      const start = matches[m];
      if (start === undefined || start >= segmentEnd) {
        piece(cursor, segmentEnd, false, false);
        break;
      }
      if (start > cursor) {
        piece(cursor, start, false, false);
        cursor = start;
        continue;
      }
      const end = Math.min(segmentEnd, start + length);
      piece(cursor, end, true, start === currentCol);
      cursor = end;
    }
    position = segmentEnd;
  }
  return out;
}

interface RowProps {
  index: number;
  line: string;
  query: string;
  /** Column of the current match on this line, -1 when it is elsewhere. */
  currentCol: number;
  setSize: number;
}

const LogRow = memo(function LogRow({ index, line, query, currentCol, setSize }: RowProps) {
  const segments = parseAnsi(line);
  let content: ReactNode[];
  if (query === "") {
    content = segments.map((segment, i) =>
      segment.className ? (
        // biome-ignore lint/suspicious/noArrayIndexKey: segments of one line never reorder
        <span key={i} className={segment.className}>
          {segment.text}
        </span>
      ) : (
        segment.text
      ),
    );
  } else {
    const text = segments.map((s) => s.text).join("");
    content = highlight(segments, LogSearch.occurrences(text, query), query.length, currentCol);
  }
  return (
    <li className="log-row" aria-posinset={index + 1} aria-setsize={setSize}>
      <span className="log-ln" aria-hidden="true">
        {index + 1}
      </span>
      <span className="log-text">{content}</span>
    </li>
  );
});

/**
 * A virtualised log: only the rows in view (plus a few) are in the DOM, at a fixed row height, so a
 * million lines scroll as smoothly as ten. ANSI colours become CSS classes, text stays text.
 * Follow mode keeps the newest line in view and pauses as soon as the user scrolls up; "Jump to
 * latest" (or End) resumes it. Search highlights every match and steps through them.
 */
export function LogViewer({ store, label, fileName, status, emptyText }: LogViewerProps) {
  const count = useFrameBatchedLength(store);
  const rootRef = useRef<HTMLDivElement>(null);
  const scrollerRef = useRef<HTMLElement>(null);
  const spacerRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<HTMLOListElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const selectionRef = useRef("");
  const ownScrollTop = useRef(-1);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(400);
  const [follow, setFollow] = useState(true);
  const followRef = useRef(follow);
  followRef.current = follow;
  const [query, setQuery] = useState("");
  const [activeQuery, setActiveQuery] = useState("");
  const [current, setCurrent] = useState(-1);
  const [announcement, setAnnouncement] = useState("");
  const searchId = useId();

  const search = useMemo(() => new LogSearch(store), [store]);
  useEffect(() => search.attach(), [search]);
  const searchVersion = useSyncExternalStore(
    useCallback((listener) => search.subscribe(listener), [search]),
    () => search.snapshot,
  );

  // debounce typing into the search
  useEffect(() => {
    const timer = setTimeout(() => setActiveQuery(query), query === "" ? 0 : 150);
    return () => clearTimeout(timer);
  }, [query]);
  useEffect(() => {
    search.setQuery(activeQuery);
    setCurrent(-1);
  }, [search, activeQuery]);

  const g = geometry(count, viewport);
  const top = follow ? g.maxScroll : Math.min(scrollTop, g.maxScroll);
  const realTop = toReal(top, g);
  const first = Math.floor(realTop / ROW_HEIGHT);
  const offset = realTop - first * ROW_HEIGHT;
  const start = Math.max(0, first - OVERSCAN);
  const end = Math.min(count, first + Math.ceil((viewport + offset) / ROW_HEIGHT) + 1 + OVERSCAN);
  const layerTop = top - offset - (first - start) * ROW_HEIGHT;

  // viewport size
  useLayoutEffect(() => {
    const scroller = scrollerRef.current;
    if (!scroller) return;
    const measure = () => setViewport(scroller.clientHeight || 400);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(scroller);
    return () => observer.disconnect();
  }, []);

  // geometry through CSSOM (no inline style attributes: the page's CSP allows style-src 'self' only)
  useLayoutEffect(() => {
    spacerRef.current?.style.setProperty("height", `${g.virtualHeight}px`);
    layerRef.current?.style.setProperty("transform", `translateY(${layerTop}px)`);
    rootRef.current?.style.setProperty("--log-digits", String(Math.max(3, String(count).length)));
    const scroller = scrollerRef.current;
    if (follow && scroller) {
      if (Math.abs(scroller.scrollTop - g.maxScroll) > 0.5) scroller.scrollTop = g.maxScroll;
      ownScrollTop.current = scroller.scrollTop;
    }
  });

  const onScroll = () => {
    const scroller = scrollerRef.current;
    if (!scroller) return;
    const position = scroller.scrollTop;
    const bottom = scroller.scrollHeight - scroller.clientHeight;
    if (followRef.current) {
      if (Math.abs(position - ownScrollTop.current) <= 1) return; // the scroll we made
      if (position < ownScrollTop.current - 1) setFollow(false);
    } else if (position >= bottom - 1 && bottom > 0) {
      setFollow(true); // the user scrolled back to the end
    }
    setScrollTop(position);
  };

  const pauseFollow = () => {
    const scroller = scrollerRef.current;
    if (followRef.current && scroller) {
      setScrollTop(scroller.scrollTop);
      setFollow(false);
    }
  };

  const jumpToLatest = () => {
    setFollow(true);
    scrollerRef.current?.focus();
  };

  const reveal = useCallback(
    (line: number) => {
      const scroller = scrollerRef.current;
      if (!scroller) return;
      const geo = geometry(store.length, scroller.clientHeight);
      const target = toScroll(line * ROW_HEIGHT - scroller.clientHeight / 2 + ROW_HEIGHT / 2, geo);
      setFollow(false);
      setScrollTop(target);
      scroller.scrollTop = target;
    },
    [store],
  );

  // the first match shown is the first one at or below the top of the view
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run when the matches change
  useEffect(() => {
    if (current >= 0 || search.count === 0 || activeQuery === "") return;
    const from = search.firstAtOrAfter(first);
    const index = from < search.count ? from : 0;
    setCurrent(index);
    const match = search.match(index);
    if (match) reveal(match.line);
  }, [searchVersion, current, activeQuery]);

  const step = (direction: 1 | -1) => {
    if (search.count === 0) {
      if (query !== activeQuery) setActiveQuery(query);
      return;
    }
    const next =
      current < 0
        ? direction === 1
          ? 0
          : search.count - 1
        : (current + direction + search.count) % search.count;
    setCurrent(next);
    const match = search.match(next);
    if (match) reveal(match.line);
  };

  const currentMatch = current >= 0 ? search.match(current) : undefined;

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter" || event.key === "F3") {
      event.preventDefault();
      step(event.shiftKey ? -1 : 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setQuery("");
      scrollerRef.current?.focus();
    }
  };

  const onLogKey = (event: KeyboardEvent<HTMLElement>) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
      event.preventDefault();
      searchRef.current?.focus();
      searchRef.current?.select();
    } else if (event.key === "F3") {
      event.preventDefault();
      step(event.shiftKey ? -1 : 1);
    } else if (event.key === "End" && !event.shiftKey) {
      event.preventDefault();
      jumpToLatest();
    } else if (event.key === "Home") {
      event.preventDefault();
      setFollow(false);
      setScrollTop(0);
      if (scrollerRef.current) scrollerRef.current.scrollTop = 0;
    } else if (event.key === "ArrowUp" || event.key === "PageUp") {
      pauseFollow();
    }
  };

  const rememberSelection = () => {
    const selection = window.getSelection();
    const scroller = scrollerRef.current;
    selectionRef.current =
      selection && !selection.isCollapsed && scroller?.contains(selection.anchorNode)
        ? selection.toString()
        : "";
  };

  const copy = async () => {
    rememberSelection();
    const selected = selectionRef.current;
    const text = selected !== "" ? selected : allText(store);
    const ok = await copyText(text);
    const what = selected !== "" ? "the selection" : `${store.length.toLocaleString()} lines`;
    setAnnouncement(ok ? `Copied ${what}` : "Copy failed: the clipboard is not available");
  };

  const save = () => {
    const parts: string[] = [];
    store.forEachChunk((lines) => {
      parts.push(`${lines.map(plainText).join("\n")}\n`);
    });
    downloadBlob(new Blob(parts, { type: "text/plain" }), fileName);
    setAnnouncement(`Saved ${fileName}`);
  };

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    rows.push(
      <LogRow
        key={i}
        index={i}
        line={store.get(i)}
        query={activeQuery}
        currentCol={currentMatch && currentMatch.line === i ? currentMatch.col : -1}
        setSize={count}
      />,
    );
  }

  const matchText =
    activeQuery === ""
      ? ""
      : search.count === 0
        ? search.searching
          ? "Searching…"
          : "No matches"
        : `${current >= 0 ? current + 1 : 0} of ${search.count.toLocaleString()}${search.capped ? "+" : ""}${search.searching ? "…" : ""}`;

  return (
    <div className="log-viewer" ref={rootRef}>
      <div className="log-toolbar">
        <label className="sr-only" htmlFor={searchId}>
          Search {label}
        </label>
        <input
          id={searchId}
          ref={searchRef}
          className="log-search"
          type="search"
          placeholder="Search log (Ctrl+F)"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={onSearchKey}
          spellCheck={false}
          autoComplete="off"
        />
        <output className="log-match-count" aria-live="polite">
          {matchText}
        </output>
        <button
          type="button"
          className="icon-button"
          onClick={() => step(-1)}
          disabled={activeQuery === ""}
          aria-label="Previous match"
          title="Previous match (Shift+Enter)"
        >
          ↑
        </button>
        <button
          type="button"
          className="icon-button"
          onClick={() => step(1)}
          disabled={activeQuery === ""}
          aria-label="Next match"
          title="Next match (Enter)"
        >
          ↓
        </button>
        <span className="toolbar-spacer" />
        <button
          type="button"
          aria-pressed={follow}
          onClick={() => (follow ? pauseFollow() : jumpToLatest())}
          title="Keep the newest line in view"
        >
          Follow
        </button>
        <button
          type="button"
          onPointerDown={rememberSelection}
          onClick={() => void copy()}
          title="Copy the selected text, or the whole log when nothing is selected"
        >
          Copy
        </button>
        <button type="button" onClick={save} title={`Download the log as ${fileName}`}>
          Save
        </button>
      </div>
      <section
        className="log-scroller"
        ref={scrollerRef}
        onScroll={onScroll}
        onWheel={(event) => {
          if (event.deltaY < 0) pauseFollow();
        }}
        onKeyDown={onLogKey}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls by keyboard, so it takes focus
        tabIndex={0}
        aria-label={label}
      >
        <div className="log-spacer" ref={spacerRef} />
        <ol className="log-layer" ref={layerRef} aria-label={`${label} lines`}>
          {rows}
        </ol>
        {count === 0 ? <p className="log-empty">{emptyText ?? "No output yet."}</p> : null}
      </section>
      {!follow && count > 0 ? (
        <button type="button" className="log-jump" onClick={jumpToLatest}>
          Jump to latest ↓
        </button>
      ) : null}
      <div className="log-footer">
        <span className="log-count">
          {count.toLocaleString()} line{count === 1 ? "" : "s"}
        </span>
        {status ? <span className="log-status">{status}</span> : null}
        <span className="sr-only" role="status">
          {announcement}
        </span>
      </div>
    </div>
  );
}

function allText(store: LineStore): string {
  const parts: string[] = [];
  store.forEachChunk((lines) => {
    parts.push(lines.map(plainText).join("\n"));
  });
  return parts.join("\n");
}
