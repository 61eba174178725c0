// Activity lines are written by the server in English ("Assigned to Li Wei
// by Mei Chen"); the console shows the ones it knows in the agent's
// language, and any other as written.

export interface Line {
  key: string;
  vars: Record<string, string>;
}

const PATTERNS: [RegExp, string][] = [
  [/^Assigned to (?<name>.+?)$/, 'activity.assigned'],
  [/^Unassigned$/, 'activity.unassigned'],
  [/^Team set to (?<name>.+?)$/, 'activity.team'],
  [/^Team removed$/, 'activity.team_removed'],
  [/^Reopened$/, 'activity.reopened'],
  [/^Marked pending$/, 'activity.pending'],
  [/^Snoozed$/, 'activity.snoozed'],
  [/^Resolved$/, 'activity.resolved'],
  [/^Returned to the bot$/, 'activity.to_bot'],
  [/^Priority set to (?<name>.+?)$/, 'activity.priority'],
  [/^Tagged (?<name>.+?)$/, 'activity.tagged'],
  [/^Removed tag (?<name>.+?)$/, 'activity.untagged'],
  [/^Bot handed off: (?<name>.+)$/s, 'activity.handoff'],
  [/^Verified as the buyer of order (?<order>\S+): (?<name>.+)$/, 'activity.verified'],
];

/** The key and values of a known activity line (with who did it), or null. */
export function activityLine(text: string): Line | null {
  // The buyer's own words may say " by "; this line names no agent.
  const rated = /^Buyer rated the help (?<name>.+)$/s.exec(text);
  if (rated?.groups) return { key: 'activity.rated', vars: { name: rated.groups.name } };
  const by = /^(?<what>.+?) by (?<by>[^,:]+)$/.exec(text);
  const candidates: [string, string | null][] = by?.groups ? [[by.groups.what, by.groups.by], [text, null]] : [[text, null]];
  for (const [what, who] of candidates) {
    for (const [re, key] of PATTERNS) {
      const m = re.exec(what);
      if (!m) continue;
      const vars: Record<string, string> = { ...(m.groups ?? {}) };
      if (who) vars.by = who;
      return { key: who ? `${key}.by` : key, vars };
    }
  }
  return null;
}

/** An activity line in the agent's language (English as written). */
export function localizeActivity(text: string, locale: string, t: (key: string, vars: Record<string, string>) => string): string {
  if (locale === 'en') return text;
  const line = activityLine(text);
  if (!line) return text;
  const out = t(line.key, line.vars);
  return out === line.key ? text : out;
}

const ZH: Record<string, string> = {
  'activity.assigned': '已分配给 {name}', 'activity.unassigned': '已取消分配', 'activity.team': '团队设为 {name}',
  'activity.team_removed': '已移除团队', 'activity.reopened': '已重新打开', 'activity.pending': '已标记为待回复',
  'activity.snoozed': '已暂停', 'activity.resolved': '已解决', 'activity.to_bot': '已交还机器人',
  'activity.priority': '优先级设为 {name}', 'activity.tagged': '已添加标签 {name}', 'activity.untagged': '已移除标签 {name}',
  'activity.handoff': '机器人已转人工：{name}', 'activity.verified': '已验证为订单 {order} 的买家：{name}',
  'activity.rated': '买家评价：{name}',
};

/** The Chinese activity lines, each also with "（操作人：…）". */
export const activityZh: Record<string, string> = Object.fromEntries(
  Object.entries(ZH).flatMap(([k, v]) => [[k, v], [`${k}.by`, `${v}（操作人：{by}）`]]),
);
