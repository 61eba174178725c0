// The Shops settings' strings, English and Simplified Chinese, added to the
// console's catalog when the section's chunk loads.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const shopMessages: Catalog = {
  en: {
    'shops.intro': 'Connected shops send their orders, shipments and refunds to Ferry, so agents and the bot can answer order questions.',
    'shops.none': 'No shop is connected yet.', 'shops.platform.shopify': 'Shopify', 'shops.platform.import': 'Import',
    'shops.webhook_url': 'Webhook URL', 'shops.copy': 'Copy', 'shops.copied': 'Copied', 'shops.api': 'Admin API',
    'shops.connect': 'Connect a Shopify shop', 'shops.name': 'Name', 'shops.domain': 'Shop domain (example.myshopify.com)',
    'shops.secret': 'App API secret (optional: Ferry makes one)', 'shops.api_url': 'Admin API URL (optional)',
    'shops.token': 'Admin API access token (optional)', 'shops.submit': 'Connect',
    'shops.webhook_hint': 'In Shopify, send the order, fulfilment and refund webhooks (JSON) to this URL.',
    'shops.secret_once': 'Webhook secret — copy it now, it will not be shown again:', 'shops.done': 'I have saved it',
    'shops.connected_at': 'Connected {date}',
  },
  zh: {
    'shops.intro': '已连接的店铺会把订单、发货和退款同步到 Ferry，客服和机器人就能回答订单问题。',
    'shops.none': '还没有连接店铺。', 'shops.platform.shopify': 'Shopify', 'shops.platform.import': '导入',
    'shops.webhook_url': 'Webhook 地址', 'shops.copy': '复制', 'shops.copied': '已复制', 'shops.api': 'Admin API',
    'shops.connect': '连接 Shopify 店铺', 'shops.name': '名称', 'shops.domain': '店铺域名（example.myshopify.com）',
    'shops.secret': '应用 API 密钥（可选：不填则由 Ferry 生成）', 'shops.api_url': 'Admin API 地址（可选）',
    'shops.token': 'Admin API 访问令牌（可选）', 'shops.submit': '连接',
    'shops.webhook_hint': '在 Shopify 中，把订单、发货和退款的 Webhook（JSON 格式）发送到这个地址。',
    'shops.secret_once': 'Webhook 密钥——请立即复制，之后不会再显示：', 'shops.done': '我已保存',
    'shops.connected_at': '连接于 {date}',
  },
};

for (const [locale, dict] of Object.entries(shopMessages)) Object.assign((messages[locale] ??= {}), dict);
