// The calendar: a week of hours or a month of days in the user's time zone, each timed post
// a chip; drag a chip to another hour or day to move it, or use its Reschedule button.
import { useMemo, useState, type DragEvent, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { ok, publisher } from "../../api/client";
import { useBrand, useSession } from "../../app/session";
import { ErrorNotice, Loading, useAction, useResource } from "../../components/ui";
import { formatDateTime, formatTime, timeZone } from "../../lib/time";
import { dateKey, wallTime } from "../../lib/zoned";
import {
  dateOf,
  dayHeading,
  droppedAt,
  groupByDay,
  parseDateKey,
  periodLabel,
  sameDate,
  shiftAnchor,
  viewRange,
  weekdayName,
  type CalendarDay,
  type CalendarView as View,
  type DropTarget,
} from "./calendar";
import { MOVABLE, STATUS_WORDS, networksOf, publishAt, type Content, type ContentStatus } from "./content";
import { Announcement, NetworkTags, RescheduleDialog, formProblem, scheduleAt, useAnnouncement, useLiveReload } from "./shared";

const DND_TYPE = "application/x-smm-content";
const HOURS = Array.from({ length: 24 }, (_, h) => h);

export function CalendarView() {
  const brand = useBrand();
  const { can } = useSession();
  const zone = timeZone();
  const [params, setParams] = useSearchParams();
  const view: View = params.get("view") === "month" ? "month" : "week";
  const today = dateOf(Date.now(), zone);
  const anchor = parseDateKey(params.get("date")) ?? today;
  const anchorKey = dateKey(anchor);
  const range = useMemo(() => viewRange(view, anchor, zone), [view, anchorKey, zone]); // eslint-disable-line react-hooks/exhaustive-deps
  const items = useResource(
    () =>
      ok(
        publisher.GET("/v1/calendar", {
          params: {
            query: { brand_id: brand, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), limit: 2000 },
          },
        }),
      ),
    [brand, range.from, range.to],
  );
  useLiveReload(() => void items.reload());

  const [announcement, announce] = useAnnouncement();
  const move = useAction();
  const [dragging, setDragging] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [rescheduling, setRescheduling] = useState<Content | null>(null);

  const visible = useMemo(() => (items.data ?? []).filter((c) => c.status !== "cancelled"), [items.data]);
  const byDay = useMemo(() => groupByDay(visible, publishAt, zone), [visible, zone]);
  const canMove = can("content:write");
  const movable = (c: Content) => canMove && MOVABLE.has(c.status) && publishAt(c) !== null;

  const go = (next: { view?: View; date?: string }) =>
    setParams((p) => {
      const out = new URLSearchParams(p);
      if (next.view) out.set("view", next.view);
      if (next.date) out.set("date", next.date);
      return out;
    });

  const moved = (out: Content) => {
    items.setData((list) => list?.map((c) => (c.id === out.id ? out : c)));
    const at = publishAt(out);
    announce(`Moved “${out.title}” to ${at === null ? "no time" : formatDateTime(at, zone)}.`);
  };

  const drop = async (id: string, target: DropTarget) => {
    const item = visible.find((c) => c.id === id);
    const at = item ? publishAt(item) : null;
    if (!item || at === null || !movable(item)) return;
    const next = droppedAt(at, target, zone);
    if (next === at) return;
    const out = await move.run(async () => {
      if (next <= Date.now()) {
        throw formProblem(`“${item.title}” cannot move to ${formatDateTime(next, zone)}: that time has passed. Choose a future time.`);
      }
      return scheduleAt(brand, id, next, zone);
    });
    if (out) moved(out);
  };

  const dropProps = (key: string, target: DropTarget): DropCellProps => ({
    "data-drop": key,
    className: over === key ? "pub-drop pub-drop-over" : "pub-drop",
    onDragOver: (e: DragEvent) => {
      if (!dragging && !e.dataTransfer.types.includes(DND_TYPE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      if (over !== key) setOver(key);
    },
    onDragLeave: (e: DragEvent<HTMLElement>) => {
      if (!e.currentTarget.contains(e.relatedTarget as Node | null) && over === key) setOver(null);
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      const id = e.dataTransfer.getData(DND_TYPE) || dragging;
      setOver(null);
      setDragging(null);
      if (id) void drop(id, target);
    },
  });

  const chip = (c: Content) => (
    <Chip
      key={c.id}
      item={c}
      zone={zone}
      movable={movable(c)}
      dragging={dragging === c.id}
      onDragStart={(e) => {
        e.dataTransfer.setData(DND_TYPE, c.id);
        e.dataTransfer.setData("text/plain", c.title);
        e.dataTransfer.effectAllowed = "move";
        move.clear();
        setDragging(c.id);
      }}
      onDragEnd={() => {
        setDragging(null);
        setOver(null);
      }}
      onReschedule={() => {
        move.clear();
        setRescheduling(c);
      }}
    />
  );

  const counts = countByStatus(visible);
  return (
    <section className="pub-calendar" aria-labelledby="pub-period">
      <div className="pub-cal-bar">
        <div className="pub-toggle" role="group" aria-label="Calendar view">
          <button type="button" aria-pressed={view === "week"} onClick={() => go({ view: "week" })}>
            Week
          </button>
          <button type="button" aria-pressed={view === "month"} onClick={() => go({ view: "month" })}>
            Month
          </button>
        </div>
        <div className="row">
          <button type="button" onClick={() => go({ date: dateKey(shiftAnchor(view, anchor, -1)) })} aria-label="Previous">
            <span aria-hidden="true">‹</span> Previous
          </button>
          <button type="button" onClick={() => go({ date: dateKey(today) })}>
            Today
          </button>
          <button type="button" onClick={() => go({ date: dateKey(shiftAnchor(view, anchor, 1)) })} aria-label="Next">
            Next <span aria-hidden="true">›</span>
          </button>
        </div>
        <h2 id="pub-period" className="pub-period" aria-live="polite">
          {periodLabel(view, anchor)}
        </h2>
        <span className="muted small">Times in {zone}</span>
      </div>
      <p className="muted small pub-cal-summary">
        {visible.length === 0
          ? items.data
            ? `Nothing planned this ${view}. Use “New post” to plan one.`
            : ""
          : `${visible.length} ${visible.length === 1 ? "post" : "posts"} this ${view}: ${counts}.`}
        {canMove &&
          visible.length > 0 &&
          ` Drag a post to another ${view === "week" ? "hour" : "day"} to move it, or use its Reschedule button.`}
      </p>
      <Announcement text={announcement} />
      <ErrorNotice error={move.error} />
      {items.error ? <ErrorNotice error={items.error} onRetry={() => void items.reload()} /> : null}
      {!items.data && items.loading && <Loading what="Loading the calendar" />}
      {view === "week" ? (
        <WeekGrid days={range.days} today={today} zone={zone} byDay={byDay} chip={chip} dropProps={dropProps} />
      ) : (
        <MonthGrid days={range.days} today={today} byDay={byDay} chip={chip} dropProps={dropProps} />
      )}
      {rescheduling && (
        <RescheduleDialog
          content={rescheduling}
          zone={zone}
          onClose={() => setRescheduling(null)}
          onMoved={(out) => {
            setRescheduling(null);
            moved(out);
          }}
        />
      )}
    </section>
  );
}

function countByStatus(items: Content[]): string {
  const counts = new Map<ContentStatus, number>();
  for (const c of items) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${STATUS_WORDS[s].toLowerCase()}`).join(", ");
}

interface DropCellProps {
  "data-drop": string;
  className: string;
  onDragOver: (e: DragEvent) => void;
  onDragLeave: (e: DragEvent<HTMLElement>) => void;
  onDrop: (e: DragEvent) => void;
}
type DropProps = (key: string, target: DropTarget) => DropCellProps;

function DayHeading({ day, today }: { day: CalendarDay; today: CivilDateLike }) {
  const isToday = sameDate(day.date, today);
  return (
    <>
      {dayHeading(day.date)}
      {isToday && <span className="pub-today-label"> (today)</span>}
    </>
  );
}

type CivilDateLike = CalendarDay["date"];

function WeekGrid({
  days,
  today,
  zone,
  byDay,
  chip,
  dropProps,
}: {
  days: CalendarDay[];
  today: CivilDateLike;
  zone: string;
  byDay: Map<string, Content[]>;
  chip: (c: Content) => ReactNode;
  dropProps: DropProps;
}) {
  const cells = new Map<string, Content[]>();
  for (const d of days) {
    for (const c of byDay.get(d.key) ?? []) {
      const key = `${d.key}|${wallTime(publishAt(c)!, zone).hour}`;
      cells.set(key, [...(cells.get(key) ?? []), c]);
    }
  }
  return (
    <div className="pub-grid-wrap">
      <table className="pub-week">
        <caption className="sr-only">Posts by day and hour</caption>
        <thead>
          <tr>
            <th scope="col" className="pub-hour-col">
              <span className="sr-only">Hour</span>
            </th>
            {days.map((d) => (
              <th key={d.key} scope="col" className={sameDate(d.date, today) ? "pub-today" : undefined}>
                <DayHeading day={d} today={today} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {HOURS.map((h) => (
            <tr key={h}>
              <th scope="row" className="pub-hour-col">
                {String(h).padStart(2, "0")}:00
              </th>
              {days.map((d) => {
                const props = dropProps(`${d.key}T${h}`, { date: d.date, hour: h });
                const cls = sameDate(d.date, today) ? `${props.className} pub-today-col` : props.className;
                return (
                  <td key={d.key} {...props} className={cls}>
                    {(cells.get(`${d.key}|${h}`) ?? []).map(chip)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function MonthGrid({
  days,
  today,
  byDay,
  chip,
  dropProps,
}: {
  days: CalendarDay[];
  today: CivilDateLike;
  byDay: Map<string, Content[]>;
  chip: (c: Content) => ReactNode;
  dropProps: DropProps;
}) {
  const weeks: CalendarDay[][] = [];
  for (let i = 0; i < days.length; i += 7) weeks.push(days.slice(i, i + 7));
  const weekdayNames = (weeks[0] ?? []).map((d) => weekdayName(d.date));
  return (
    <div className="pub-grid-wrap">
      <table className="pub-month">
        <caption className="sr-only">Posts by day</caption>
        <thead>
          <tr>
            {weekdayNames.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((week) => (
            <tr key={week[0]!.key}>
              {week.map((d) => {
                const props = dropProps(d.key, { date: d.date });
                const cls = [props.className, d.inPeriod ? "" : "pub-other-month", sameDate(d.date, today) ? "pub-today" : ""]
                  .filter(Boolean)
                  .join(" ");
                return (
                  <td key={d.key} {...props} className={cls}>
                    <div className="pub-daynum">
                      <span aria-hidden="true">{d.date.day}</span>
                      <span className="sr-only">
                        <DayHeading day={d} today={today} />
                      </span>
                      {sameDate(d.date, today) && <span className="pub-today-label" aria-hidden="true"> today</span>}
                    </div>
                    {(byDay.get(d.key) ?? []).map(chip)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Chip({
  item,
  zone,
  movable,
  dragging,
  onDragStart,
  onDragEnd,
  onReschedule,
}: {
  item: Content;
  zone: string;
  movable: boolean;
  dragging: boolean;
  onDragStart: (e: DragEvent) => void;
  onDragEnd: () => void;
  onReschedule: () => void;
}) {
  const at = publishAt(item)!;
  return (
    <div
      className={`pub-chip pub-chip-${item.status}${dragging ? " pub-chip-dragging" : ""}${movable ? " pub-chip-movable" : ""}`}
      data-testid="calendar-item"
      data-content-id={item.id}
      data-status={item.status}
      draggable={movable}
      onDragStart={movable ? onDragStart : undefined}
      onDragEnd={onDragEnd}
    >
      <div className="pub-chip-line">
        <time dateTime={item.publish_at ?? undefined}>{formatTime(at, zone)}</time>
        <NetworkTags networks={networksOf(item)} />
      </div>
      <Link to={`/publishing/${item.id}`} draggable={false} className="pub-chip-title">
        {item.title}
      </Link>
      <div className="pub-chip-line">
        <span className="pub-chip-status">{STATUS_WORDS[item.status]}</span>
        {movable && (
          <button type="button" className="link pub-chip-action" onClick={onReschedule}>
            Reschedule
          </button>
        )}
      </div>
    </div>
  );
}
