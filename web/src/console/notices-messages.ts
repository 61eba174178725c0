// Strings of the Notices page, English and Simplified Chinese, added to
// the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const noticeMessages: Catalog = {
  en: {
    'admin.notices': 'Notices',
    'notices.intro': 'Tell buyers before they ask: Ferry sends each notice once per shipment or late order, on the buyer’s last-used channel, never during their night, never on a channel they stopped.',
    'notices.kind.shipped': 'Shipped', 'notices.kind.out_for_delivery': 'Out for delivery', 'notices.kind.delivered': 'Delivered', 'notices.kind.delayed': 'Delayed',
    'notices.kind.order_confirmed': 'Order confirmed', 'notices.kind.order_cancelled': 'Order cancelled', 'notices.kind.refunded': 'Refund issued',
    'notices.kind.back_in_stock': 'Back in stock (to buyers who asked)', 'notices.kind.journey': 'Journey', 'notices.kind.campaign': 'Campaign',
    'stock.title': 'Waiting for stock', 'stock.none': 'Nothing they wait for.', 'stock.add': 'Tell them when back',
    'stock.withdraw': 'Withdraw', 'stock.told': 'told {date}',
    'stock.source.widget': 'asked in the chat widget', 'stock.source.agent': 'added by an agent', 'stock.source.asked': 'asked while it was out',
    'notices.min_order': 'Only orders of at least', 'notices.first_order': 'Only the buyer’s first order', 'notices.tags': 'Only buyers tagged (empty: all)',
    'notices.enabled': 'On', 'notices.channels': 'Channels, in order', 'notices.delay': 'Wait (minutes)', 'notices.countries': 'Only to countries (ISO codes, empty: all)',
    'notices.texts': 'Texts per language', 'notices.text_hint': 'Placeholders: {{contact.name}}, {{order.number}}, {{tracking.url}}, {{refund.amount}}, {{product.title}}, {{product.url}}. Languages without a text get Ferry’s.',
    'notices.add_text': 'Add a language', 'notices.lang': 'Language', 'notices.template': 'WhatsApp template outside the 24-hour window',
    'notices.template_languages': 'Languages (es=es_MX, en=en_US)', 'notices.template_body': 'Body values, separated by |',
    'notices.policy': 'Quiet hours (buyer’s time)', 'notices.quiet_from': 'from', 'notices.quiet_to': 'to',
    'notices.save': 'Save notices', 'notices.saved': 'Saved', 'notices.log': 'Log',
    'notices.none': 'No notice decided yet.', 'notices.when': 'When', 'notices.what': 'Notice', 'notices.channel': 'Channel', 'notices.state': 'State',
    'notices.sent': 'Sent', 'notices.scheduled': 'Waiting until {at}', 'notices.skipped': 'Skipped: {reason}', 'notices.failed': 'Failed: {reason}',
    'notices.conversation': 'Conversation #{id}', 'notices.refresh': 'Refresh',
    'consent.title': 'Marketing consent', 'consent.all': 'All channels', 'consent.channel': 'Channel', 'consent.source': 'Source (checkout…)',
    'consent.give': 'Consent given', 'consent.withdraw': 'Withdrawn', 'consent.none': 'No consent recorded: marketing is not sent where the account requires it.',
    'consent.given': '{channel}: consent given ({source}, {date})', 'consent.withdrawn': '{channel}: consent withdrawn ({source}, {date})',
    'consent.stopped': '{channel}: the buyer sent {keyword}; nothing is sent there',
    'notices.stats': 'Last 30 days: {sent} sent · {delivered} delivered · {read} read · {replied} answered · {skipped} skipped · {failed} failed',
  },
  zh: {
    'admin.notices': '主动通知',
    'notices.intro': '在买家询问之前告知：每次发货或延误，Ferry 只发送一次通知，使用买家最近使用的渠道，不在其夜间发送，不使用其已退订的渠道。',
    'notices.kind.shipped': '已发货', 'notices.kind.out_for_delivery': '派送中', 'notices.kind.delivered': '已送达', 'notices.kind.delayed': '延误',
    'notices.kind.order_confirmed': '订单确认', 'notices.kind.order_cancelled': '订单取消', 'notices.kind.refunded': '已退款',
    'notices.kind.back_in_stock': '到货提醒（仅发给登记过的买家）', 'notices.kind.journey': '旅程', 'notices.kind.campaign': '营销活动',
    'stock.title': '等待到货', 'stock.none': '没有等待中的商品。', 'stock.add': '到货时通知',
    'stock.withdraw': '撤销', 'stock.told': '已于 {date} 通知',
    'stock.source.widget': '在聊天窗口登记', 'stock.source.agent': '由客服添加', 'stock.source.asked': '缺货时询问过',
    'notices.min_order': '订单金额至少', 'notices.first_order': '仅限买家的首单', 'notices.tags': '仅限带以下标签的买家（留空：全部）',
    'notices.enabled': '开启', 'notices.channels': '渠道（按顺序）', 'notices.delay': '等待（分钟）', 'notices.countries': '仅限国家（ISO 代码，留空为全部）',
    'notices.texts': '各语言文本', 'notices.text_hint': '占位符：{{contact.name}}、{{order.number}}、{{tracking.url}}、{{refund.amount}}、{{product.title}}、{{product.url}}。没有文本的语言使用 Ferry 自带文本。',
    'notices.add_text': '添加语言', 'notices.lang': '语言', 'notices.template': '24 小时窗口外使用的 WhatsApp 模板',
    'notices.template_languages': '语言（es=es_MX, en=en_US）', 'notices.template_body': '正文参数，用 | 分隔',
    'notices.policy': '免打扰时段（买家当地时间）', 'notices.quiet_from': '从', 'notices.quiet_to': '到',
    'notices.save': '保存通知', 'notices.saved': '已保存', 'notices.log': '记录',
    'notices.none': '尚无通知记录。', 'notices.when': '时间', 'notices.what': '通知', 'notices.channel': '渠道', 'notices.state': '状态',
    'notices.sent': '已发送', 'notices.scheduled': '等待至 {at}', 'notices.skipped': '已跳过：{reason}', 'notices.failed': '失败：{reason}',
    'notices.conversation': '会话 #{id}', 'notices.refresh': '刷新',
    'consent.title': '营销同意', 'consent.all': '所有渠道', 'consent.channel': '渠道', 'consent.source': '来源（结账页…）',
    'consent.give': '已同意', 'consent.withdraw': '已撤回', 'consent.none': '未记录同意：在账户要求同意时不会发送营销消息。',
    'consent.given': '{channel}：已同意（{source}，{date}）', 'consent.withdrawn': '{channel}：已撤回同意（{source}，{date}）',
    'consent.stopped': '{channel}：买家发送了 {keyword}，该渠道不再发送',
    'notices.stats': '近 30 天：已发送 {sent} · 已送达 {delivered} · 已读 {read} · 已回复 {replied} · 已跳过 {skipped} · 失败 {failed}',
  },
};

for (const [locale, dict] of Object.entries(noticeMessages)) Object.assign((messages[locale] ??= {}), dict);
