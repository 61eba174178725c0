// API types, generated from the Rust types (see openapi.json, written by
// `cargo test -p ferry-api`, and `npm run types`).
import type { components } from './types/openapi';

type S = components['schemas'];
export type Profile = S['ProfileView'];
export type Agent = S['AgentView'];
export type Team = S['TeamView'];
export type Inbox = S['InboxView'];
export type Contact = S['ContactView'];
export type Conversation = S['ConversationView'];
export type ConversationList = S['ConversationList'];
export type Counts = S['ConversationCounts'];
export type Message = S['MessageView'];
export type ContentPart = S['ContentPart'];
export type Attachment = S['Attachment'];
export type Tag = S['TagView'];
export type CannedResponse = S['CannedResponseView'];
export type SearchResults = S['SearchResults'];
export type WidgetConfig = S['WidgetConfig'];
export type VisitorMessage = S['VisitorMessageView'];
export type Session = S['SessionView'];
export type TypingEvent = S['TypingEvent'];
export type ChannelKind = S['ChannelKind'];
export type Status = S['Status'];
export type ErrorBody = S['ErrorBody'];
export type InboxConfig = S['InboxConfig'];
export type BotDocument = S['BotDocument'];
export type BotDocumentResponse = S['BotDocumentResponse'];
export type BotIntent = S['BotIntent'];
export type BotFaq = S['BotFaq'];
export type BotTestResponse = S['BotTestResponse'];
export type TrainResponse = S['TrainResponse'];
export type Decision = S['Decision'];
export type HandoffReason = S['HandoffReason'];
export type Slot = S['Slot'];
