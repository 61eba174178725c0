// Merging contacts in the console: the labels of why two contacts look
// like one buyer, and whether a merge can still be undone. Pure
// functions, tested in merges.test.ts.

/** Why a contact looks like a duplicate, as the API says it. */
export type DuplicateReason = 'same_phone' | 'same_email' | 'same_name_and_country';

/** The catalog key of each reason. */
export function reasonKey(r: DuplicateReason): string {
  return `merge.reason.${r}`;
}

/** A merge as the API shows it (the fields the console reads). */
export interface MergeLike {
  undone_at?: string | null;
  undo_until: string;
}

/** Whether an owner or admin can still undo `m` at `now`. */
export function canUndo(m: MergeLike, now: Date, ownerOrAdmin: boolean): boolean {
  return ownerOrAdmin && !m.undone_at && new Date(m.undo_until).getTime() > now.getTime();
}

/** Merges still in effect, newest first (the API sends them so). */
export function activeMerges<T extends MergeLike>(list: T[]): T[] {
  return list.filter((m) => !m.undone_at);
}
