// The strings of API access tokens, English and Simplified Chinese, added
// to the console's catalog when imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const accessTokenMessages: Catalog = {
  en: {
    'tokens.title': 'API access tokens',
    'tokens.intro': 'For integrations: a token acts as you. Send it as the api_access_token header. It keeps working when two-factor authentication is required; revoke it when the integration ends.',
    'tokens.name': 'What it is for', 'tokens.create': 'Create token', 'tokens.revoke': 'Revoke',
    'tokens.secret': 'Copy it now; it is not shown again:', 'tokens.none': 'No tokens.', 'tokens.created': 'Created {date}',
  },
  zh: {
    'tokens.title': 'API 访问令牌',
    'tokens.intro': '用于集成：令牌代表您本人操作，作为 api_access_token 请求头发送。即使账户要求双重验证仍可使用；集成停用时请撤销。',
    'tokens.name': '用途', 'tokens.create': '创建令牌', 'tokens.revoke': '撤销',
    'tokens.secret': '请立即复制，之后不会再显示：', 'tokens.none': '暂无令牌。', 'tokens.created': '创建于 {date}',
  },
};

for (const [locale, dict] of Object.entries(accessTokenMessages)) Object.assign((messages[locale] ??= {}), dict);
