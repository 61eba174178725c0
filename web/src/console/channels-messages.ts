// Strings of Messenger, Instagram, Telegram and SMS inboxes (their
// settings, connection check and reply window) and the SMS segment count,
// English and Simplified Chinese, added to the console's catalog when
// imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const channelMessages: Catalog = {
  en: {
    'channel.messenger': 'Messenger', 'channel.instagram': 'Instagram', 'channel.telegram': 'Telegram', 'channel.sms': 'SMS',
    'ch.settings': '{channel} settings',
    'ch.f.page_id': 'Facebook Page ID', 'ch.f.instagram_account_id': 'Instagram account ID', 'ch.f.access_token': 'Page access token',
    'ch.f.app_secret': 'App secret', 'ch.f.verify_token': 'Verify token', 'ch.f.app_id': 'App ID (optional)',
    'ch.f.api_base': 'API base (optional)', 'ch.f.human_agent': 'The page has Meta’s Human Agent permission (people may answer for 7 days)',
    'ch.f.bot_token': 'Bot token (from @BotFather)', 'ch.f.secret_token': 'Secret token',
    'ch.f.account_sid': 'Account SID', 'ch.f.auth_token': 'Auth token', 'ch.f.from_number': 'Sending number',
    'ch.f.webhook_url': 'Public webhook URL (optional, behind a proxy)',
    'ch.secret_set': 'set — type to replace', 'ch.generate': 'Generate', 'ch.copy': 'Copy', 'ch.copied': 'Copied',
    'ch.webhook': 'Webhook URL to give the platform', 'ch.webhook_new': 'The webhook URL appears once the inbox is created.',
    'ch.hint.messenger': 'In Meta’s app dashboard: Messenger → Webhooks: paste the URL and the verify token, subscribe to messages, postbacks, reactions, deliveries, reads and echoes. The check below subscribes the page.',
    'ch.hint.instagram': 'In Meta’s app dashboard: Instagram → Webhooks: paste the URL and the verify token and subscribe to messages. The check below subscribes the page.',
    'ch.hint.telegram': 'The check below points the bot’s webhook at Ferry with the secret token; nothing to paste anywhere.',
    'ch.hint.sms': 'Give this URL to the provider for incoming messages; status callbacks are set on every message Ferry sends.',
    'ch.check': 'Check connection', 'ch.checking': 'Checking…', 'ch.check_ok': 'Connected', 'ch.check_failed': 'Not connected: {error}',
    'ch.page': 'Page {value}', 'ch.bot': 'Bot {value}', 'ch.account': 'Account {value}', 'ch.subscribed': 'Subscribed {value}',
    'ch.webhook_set': 'Webhook {value}', 'ch.missing': 'Fill in: {fields}',
    'ch.window_open': 'Reply window: {h} h {m} min left', 'ch.window_tagged': 'Human agent tag: {d} d {h} h left',
    'ch.window_closed': 'The reply window is closed: {channel} takes no reply until the buyer writes again.',
    'ch.window_never': 'The buyer has not written in this conversation yet: {channel} only lets a page answer.',
    'ch.segments': '{n} SMS · {encoding} · {left} left',
  },
  zh: {
    'channel.messenger': 'Messenger', 'channel.instagram': 'Instagram', 'channel.telegram': 'Telegram', 'channel.sms': '短信',
    'ch.settings': '{channel} 设置',
    'ch.f.page_id': 'Facebook 主页 ID', 'ch.f.instagram_account_id': 'Instagram 账号 ID', 'ch.f.access_token': '主页访问令牌',
    'ch.f.app_secret': '应用密钥', 'ch.f.verify_token': '验证令牌', 'ch.f.app_id': '应用 ID（可选）',
    'ch.f.api_base': 'API 地址（可选）', 'ch.f.human_agent': '主页已获 Meta 人工客服权限（客服可在 7 天内回复）',
    'ch.f.bot_token': '机器人令牌（来自 @BotFather）', 'ch.f.secret_token': '密钥令牌',
    'ch.f.account_sid': '账号 SID', 'ch.f.auth_token': '认证令牌', 'ch.f.from_number': '发送号码',
    'ch.f.webhook_url': '公网 Webhook 地址（可选，使用代理时填写）',
    'ch.secret_set': '已设置 — 输入即可替换', 'ch.generate': '生成', 'ch.copy': '复制', 'ch.copied': '已复制',
    'ch.webhook': '提供给平台的 Webhook 地址', 'ch.webhook_new': '创建收件箱后显示 Webhook 地址。',
    'ch.hint.messenger': '在 Meta 应用后台：Messenger → Webhooks：粘贴地址和验证令牌，订阅消息、回传、回应、送达、已读和回显。下方的检查会为主页完成订阅。',
    'ch.hint.instagram': '在 Meta 应用后台：Instagram → Webhooks：粘贴地址和验证令牌并订阅消息。下方的检查会为主页完成订阅。',
    'ch.hint.telegram': '下方的检查会用密钥令牌把机器人的 Webhook 指向 Ferry，无需手动粘贴。',
    'ch.hint.sms': '把此地址提供给服务商用于接收短信；Ferry 发送的每条短信都会附带状态回调。',
    'ch.check': '检查连接', 'ch.checking': '正在检查…', 'ch.check_ok': '已连接', 'ch.check_failed': '未连接：{error}',
    'ch.page': '主页 {value}', 'ch.bot': '机器人 {value}', 'ch.account': '账号 {value}', 'ch.subscribed': '已订阅 {value}',
    'ch.webhook_set': 'Webhook {value}', 'ch.missing': '请填写：{fields}',
    'ch.window_open': '回复窗口：剩余 {h} 小时 {m} 分钟', 'ch.window_tagged': '人工客服标签：剩余 {d} 天 {h} 小时',
    'ch.window_closed': '回复窗口已关闭：在买家再次来信之前，{channel} 不接受回复。',
    'ch.window_never': '买家尚未在此会话中发送消息：{channel} 只允许主页回复。',
    'ch.segments': '{n} 条短信 · {encoding} · 剩余 {left} 字符',
  },
};

for (const [locale, dict] of Object.entries(channelMessages)) Object.assign((messages[locale] ??= {}), dict);
