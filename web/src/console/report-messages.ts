// The Reports page's strings, English and Simplified Chinese, added to the
// console's catalog when the page's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const reportMessages: Catalog = {
  en: {
    'reports.title': 'Reports', 'reports.tab.overview': 'Overview', 'reports.tab.breakdown': 'Breakdown',
    'reports.tab.agents': 'Agents', 'reports.tab.handoffs': 'Hand-off reasons',
    'reports.from': 'From', 'reports.until': 'Until', 'reports.group_by': 'Group by', 'reports.by': 'Break down by',
    'reports.group.day': 'Day', 'reports.group.week': 'Week', 'reports.group.month': 'Month',
    'reports.last': 'Last {days} days', 'reports.timezone': 'Days in {timezone}', 'reports.loading': 'Counting…',
    'reports.csv': 'Export CSV', 'reports.none': 'No conversations in this period.', 'reports.unset': '(none)',
    'reports.dim.channel': 'Channel', 'reports.dim.inbox': 'Inbox', 'reports.dim.country': 'Country',
    'reports.dim.language': 'Language', 'reports.dim.intent': 'Intent', 'reports.dim.tag': 'Tag', 'reports.dim.team': 'Team',
    'reports.dim.agent': 'Agent', 'reports.dim.sku': 'Product (SKU)',
    'reports.m.opened': 'Opened', 'reports.m.resolved': 'Resolved', 'reports.m.backlog': 'Backlog', 'reports.m.reopened': 'Reopened',
    'reports.m.bot_started': 'Started with the bot', 'reports.m.bot_contained': 'Resolved by the bot',
    'reports.m.containment': 'Containment', 'reports.m.handed_off': 'Handed off', 'reports.m.handoff_rate': 'Hand-off rate',
    'reports.m.first_response': 'First response (median)', 'reports.m.first_response_p90': 'First response (p90)',
    'reports.m.resolution': 'Resolution (median)', 'reports.m.rated': 'Rated', 'reports.m.csat': 'CSAT (1–5)',
    'reports.m.satisfied': 'Satisfied (4–5)', 'reports.m.replies': 'Replies', 'reports.m.handled': 'Conversations',
    'reports.m.share': 'Share', 'reports.m.reason': 'Reason', 'reports.m.agent': 'Agent', 'reports.m.conversations': 'Conversations',
    'reports.chart.volume': 'Opened, resolved and backlog', 'reports.chart.first_response': 'First response, median (minutes)',
    'reports.chart.breakdown': 'Opened by {dimension}',
    'reports.drill.title': '{metric}: {count} {count|conversation|conversations}', 'reports.drill.more': 'First {shown} shown.',
    'reports.drill.close': 'Close', 'reports.drill.open': 'Open conversation #{id}', 'reports.drill.hint': 'Every number opens the conversations behind it.',
  },
  zh: {
    'reports.title': '报表', 'reports.tab.overview': '概览', 'reports.tab.breakdown': '分组明细',
    'reports.tab.agents': '客服', 'reports.tab.handoffs': '转人工原因',
    'reports.from': '开始', 'reports.until': '结束', 'reports.group_by': '按时间', 'reports.by': '分组依据',
    'reports.group.day': '日', 'reports.group.week': '周', 'reports.group.month': '月',
    'reports.last': '最近 {days} 天', 'reports.timezone': '日期按 {timezone} 计', 'reports.loading': '正在统计…',
    'reports.csv': '导出 CSV', 'reports.none': '这段时间没有会话。', 'reports.unset': '（未设置）',
    'reports.dim.channel': '渠道', 'reports.dim.inbox': '收件箱', 'reports.dim.country': '国家/地区',
    'reports.dim.language': '语言', 'reports.dim.intent': '意图', 'reports.dim.tag': '标签', 'reports.dim.team': '团队',
    'reports.dim.agent': '客服', 'reports.dim.sku': '商品（SKU）',
    'reports.m.opened': '新会话', 'reports.m.resolved': '已解决', 'reports.m.backlog': '积压', 'reports.m.reopened': '重新打开',
    'reports.m.bot_started': '机器人接待', 'reports.m.bot_contained': '机器人独立解决',
    'reports.m.containment': '机器人解决率', 'reports.m.handed_off': '转人工', 'reports.m.handoff_rate': '转人工率',
    'reports.m.first_response': '首次响应（中位数）', 'reports.m.first_response_p90': '首次响应（p90）',
    'reports.m.resolution': '解决用时（中位数）', 'reports.m.rated': '已评价', 'reports.m.csat': '满意度（1–5）',
    'reports.m.satisfied': '满意（4–5）', 'reports.m.replies': '回复数', 'reports.m.handled': '会话数',
    'reports.m.share': '占比', 'reports.m.reason': '原因', 'reports.m.agent': '客服', 'reports.m.conversations': '会话数',
    'reports.chart.volume': '新会话、已解决与积压', 'reports.chart.first_response': '首次响应中位数（分钟）',
    'reports.chart.breakdown': '按{dimension}的新会话',
    'reports.drill.title': '{metric}：{count} 个会话', 'reports.drill.more': '显示前 {shown} 个。',
    'reports.drill.close': '关闭', 'reports.drill.open': '打开会话 #{id}', 'reports.drill.hint': '点击任一数字即可查看其背后的会话。',
  },
};

for (const [locale, dict] of Object.entries(reportMessages)) Object.assign((messages[locale] ??= {}), dict);
