// Generated from party/protocol/index.ts by test/support/wire-schemas.ts: do not edit.
// Run `npm run generate`; a unit test fails when this file is stale.
import type { Defs, Schema } from "./check.ts";

const $Ban: Schema = {"type":"object","properties":{"userId":{"$ref":"#/$defs/UserId"},"until":{"type":"integer"},"reason":{"type":"string","maxLength":200},"bannedAt":{"type":"integer"}},"required":["userId","until","reason","bannedAt"]};

const $BanLifted: Schema = {"type":"object","properties":{"userId":{"$ref":"#/$defs/UserId"},"lifted":{"type":"boolean"}},"required":["userId","lifted"]};

const $BanStatus: Schema = {"type":"object","properties":{"userId":{"$ref":"#/$defs/UserId"},"banned":{"type":"boolean"},"ban":{"$ref":"#/$defs/Ban"}},"required":["userId","banned"]};

const $ChannelHereNow: Schema = {"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"channel":{"$ref":"#/$defs/ChannelName"},"clientTypes":{"$ref":"#/$defs/ClientTypeCounts"},"users":{"type":"array","items":{"$ref":"#/$defs/HereNowUser"}},"cursor":{"$ref":"#/$defs/UserId"}},"required":["clientAmount","userAmount","channel","clientTypes"]};

const $ChannelMode: Schema = {"type":"string","enum":["full","interval"]};

const $ChannelName: Schema = {"type":"string","minLength":1,"maxLength":128,"pattern":"^[A-Za-z0-9_\\-.:@]+$","msg":{"minLength":"channel name is empty","maxLength":"channel name is longer than 128 characters","pattern":"channel name may only hold letters, digits and _-.:@"}};

const $ChannelPattern: Schema = {"type":"string","minLength":1,"maxLength":129,"pattern":"^[A-Za-z0-9_\\-.:@]*\\*?$","msg":{"minLength":"a channel pattern is empty","maxLength":"a channel pattern is longer than 129 characters","pattern":"a channel pattern is a channel name, or a prefix followed by *"}};

const $ClientId: Schema = {"type":"string","minLength":1,"maxLength":64,"pattern":"^[A-Za-z0-9_\\-.:]+$","msg":{"minLength":"client id is empty","maxLength":"client id is longer than 64 characters","pattern":"client id may only hold letters, digits and _-.:"}};

const $ClientSettings: Schema = {"type":"object","properties":{"heartbeatIntervalMs":{"type":"integer","exclusiveMinimum":0},"heartbeatTimeoutMs":{"type":"integer","exclusiveMinimum":0},"graceMs":{"type":"integer","minimum":0},"retentionMs":{"type":"integer","exclusiveMinimum":0}},"required":["heartbeatIntervalMs","heartbeatTimeoutMs","graceMs","retentionMs"]};

const $ClientType: Schema = {"type":"string","minLength":1,"maxLength":32,"pattern":"^[A-Za-z0-9_\\-.]+$","msg":{"minLength":"clientType is empty","maxLength":"clientType is longer than 32 characters","pattern":"clientType may only hold letters, digits and _-."}};

const $ClientTypeCounts: Schema = {"type":"object","propertyNames":{"$ref":"#/$defs/ClientType"},"additionalProperties":{"type":"integer","exclusiveMinimum":0}};

const $DisconnectResult: Schema = {"type":"object","properties":{"userId":{"$ref":"#/$defs/UserId"},"clients":{"type":"integer","minimum":0},"channels":{"type":"array","items":{"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"clients":{"type":"array","items":{"$ref":"#/$defs/KickedClient"}}},"required":["channel","clients"]}},"failedChannels":{"type":"array","items":{"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"error":{"type":"string"}},"required":["channel","error"]}},"bannedUntil":{"type":"integer"}},"required":["userId","clients","channels"]};

const $ErrorCode: Schema = {"type":"string","enum":["bad_request","bad_message","unknown_message","too_large","binary_not_supported","rate_limited","not_a_member","room_full","user_full","unauthorized","forbidden","disabled","unavailable","replaced","not_found","kicked","banned","conflict","method_not_allowed","misconfigured","internal"]};

const $HeldPush: Schema = {"type":"object","properties":{"id":{"$ref":"#/$defs/PushId"},"data":{"$ref":"#/$defs/JsonValue"},"channel":{"$ref":"#/$defs/ChannelName"},"from":{"anyOf":[{"$ref":"#/$defs/UserId"},{"type":"null"}]}},"required":["id","data","channel","from"]};

const $HereNowUser: Schema = {"type":"object","properties":{"id":{"$ref":"#/$defs/UserId"},"data":{"$ref":"#/$defs/JsonValue"},"clientType":{"$ref":"#/$defs/ClientType"},"clientTypes":{"$ref":"#/$defs/ClientTypeCounts"}},"required":["id","data"]};

const $HistoryCursor: Schema = {"type":"string","pattern":"^\\d{1,16}$","msg":{"pattern":"cursor must be the cursor of an earlier history page"}};

const $HistoryEvent: Schema = {"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"action":{"$ref":"#/$defs/PresenceAction"},"member":{"$ref":"#/$defs/Member"},"seq":{"type":"integer","minimum":0},"at":{"type":"number"}},"required":["clientAmount","userAmount","action","member","seq","at"]};

const $HistoryPage: Schema = {"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"events":{"type":"array","items":{"$ref":"#/$defs/HistoryEvent"}},"cursor":{"$ref":"#/$defs/HistoryCursor"}},"required":["channel","events"]};

const $HttpClientListing: Schema = {"type":"object","properties":{"clientId":{"$ref":"#/$defs/ClientId"},"userId":{"$ref":"#/$defs/UserId"},"clientType":{"$ref":"#/$defs/ClientType"},"ttlMs":{"type":"integer"},"renewedAt":{"type":"integer"},"expiresAt":{"type":"integer"},"pushes":{"type":"integer","minimum":0}},"required":["clientId","userId","clientType","ttlMs","renewedAt","expiresAt","pushes"]};

const $HttpClientRefusal: Schema = {"type":"object","properties":{"clientId":{"$ref":"#/$defs/ClientId"},"error":{"$ref":"#/$defs/ErrorCode"},"message":{"type":"string"}},"required":["clientId","error","message"]};

const $HttpClientState: Schema = {"type":"object","properties":{"clientId":{"$ref":"#/$defs/ClientId"},"userId":{"$ref":"#/$defs/UserId"},"clientType":{"$ref":"#/$defs/ClientType"},"expiresAt":{"type":"integer"},"pushes":{"type":"array","items":{"$ref":"#/$defs/HeldPush"}}},"required":["clientId","userId","clientType","expiresAt","pushes"]};

const $JsonValue: Schema = {};

const $KickedClient: Schema = {"type":"object","properties":{"connectionId":{"type":"string"},"clientType":{"$ref":"#/$defs/ClientType"}},"required":["connectionId"]};

const $Member: Schema = {"type":"object","properties":{"id":{"$ref":"#/$defs/UserId"},"data":{"$ref":"#/$defs/JsonValue"},"status":{"$ref":"#/$defs/MemberStatus"},"clients":{"type":"integer","minimum":0},"clientTypes":{"$ref":"#/$defs/ClientTypeCounts"},"since":{"type":"number"},"lastSeen":{"type":"number"}},"required":["id","data","status","clients","clientTypes","since","lastSeen"]};

const $MemberStatus: Schema = {"type":"string","enum":["online","offline"]};

const $PresenceAction: Schema = {"type":"string","enum":["join","online","offline","leave","update"]};

const $PushId: Schema = {"type":"string","minLength":1,"maxLength":128,"pattern":"^[A-Za-z0-9_\\-.:]+$","msg":{"minLength":"a push id is empty","maxLength":"a push id is longer than 128 characters","pattern":"a push id may only hold letters, digits and _-.:"}};

const $PushMiss: Schema = {"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"connectionId":{"type":"string"},"clientType":{"$ref":"#/$defs/ClientType"},"reason":{"type":"string","enum":["timeout","closed","rejected"]},"error":{"type":"string"}},"required":["channel","connectionId","reason"]};

const $PushResult: Schema = {"type":"object","properties":{"id":{"$ref":"#/$defs/PushId"},"clients":{"type":"integer","minimum":0},"acked":{"type":"array","items":{"$ref":"#/$defs/PushTarget"}},"unacked":{"type":"array","items":{"$ref":"#/$defs/PushMiss"}},"failedChannels":{"type":"array","items":{"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"error":{"type":"string"}},"required":["channel","error"]}}},"required":["id","clients","acked","unacked"]};

const $PushTarget: Schema = {"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"connectionId":{"type":"string"},"clientType":{"$ref":"#/$defs/ClientType"}},"required":["channel","connectionId"]};

const $RoomStats: Schema = {"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"clientAmount":{"type":"integer"},"userAmount":{"type":"integer"},"members":{"type":"integer"},"mode":{"$ref":"#/$defs/ChannelMode"},"sockets":{"type":"integer"},"httpClients":{"type":"integer"},"starts":{"type":"integer"},"historyEvents":{"type":"integer","minimum":0},"refusedConnections":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"refusedRequests":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"replacedClients":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"shards":{"type":"array","items":{"type":"object","properties":{"shard":{"type":"integer","minimum":0},"clientAmount":{"type":"integer","minimum":0}},"required":["shard","clientAmount"]}},"webhooks":{"$ref":"#/$defs/WebhookStats"},"rejectedMessages":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"closes":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"events":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"pushes":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}},"webhookDeliveries":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"type":"integer"}}},"required":["channel","clientAmount","userAmount","members","mode","sockets","httpClients","starts","historyEvents","refusedConnections","refusedRequests","replacedClients","shards","webhooks","rejectedMessages","closes","events","pushes","webhookDeliveries"]};

const $TokenClaims: Schema = {"type":"object","properties":{"sub":{"$ref":"#/$defs/UserId"},"data":{"$ref":"#/$defs/JsonValue"},"dataWritable":{"type":"boolean"},"channels":{"maxItems":1000,"type":"array","items":{"$ref":"#/$defs/ChannelPattern"},"msg":{"maxItems":"a token names at most 1000 channels"}},"clientType":{"$ref":"#/$defs/ClientType"},"observer":{"type":"boolean"}}};

const $UserChannel: Schema = {"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"clientAmount":{"type":"integer","exclusiveMinimum":0},"clientTypes":{"$ref":"#/$defs/ClientTypeCounts"}},"required":["channel","clientAmount","clientTypes"]};

const $UserId: Schema = {"type":"string","minLength":1,"maxLength":128,"pattern":"^(?:[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$","msg":{"minLength":"userId is empty","maxLength":"userId is longer than 128 characters","pattern":"userId may not hold control characters (U+0000–U+001F, U+007F–U+009F), line or paragraph separators (U+2028, U+2029), bidi embedding, override or isolate controls (U+202A–U+202E, U+2066–U+2069) or a surrogate without its pair"}};

const $UserStatus: Schema = {"type":"object","properties":{"id":{"$ref":"#/$defs/UserId"},"online":{"type":"boolean"},"since":{"type":"number"},"lastSeen":{"anyOf":[{"type":"number"},{"type":"null"}]},"data":{"$ref":"#/$defs/JsonValue"},"channels":{"type":"array","items":{"$ref":"#/$defs/UserChannel"}}},"required":["id","online","lastSeen"]};

const $WebhookChannelEvent: Schema = {"type":"object","properties":{"type":{"$ref":"#/$defs/PresenceAction"},"channel":{"$ref":"#/$defs/ChannelName"},"seq":{"type":"integer","exclusiveMinimum":0},"member":{"$ref":"#/$defs/Member"},"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0}},"required":["type","channel","seq","member","clientAmount","userAmount"]};

const $WebhookOccupancyEvent: Schema = {"type":"object","properties":{"type":{"type":"string","enum":["channel.occupied","channel.vacated"]},"channel":{"$ref":"#/$defs/ChannelName"},"seq":{"type":"integer","exclusiveMinimum":0},"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0}},"required":["type","channel","seq","clientAmount","userAmount"]};

const $WebhookStats: Schema = {"type":"object","properties":{"enabled":{"type":"boolean"},"pending":{"type":"integer","minimum":0},"deadLetters":{"type":"integer","minimum":0},"delivered":{"type":"integer","minimum":0},"failedAttempts":{"type":"integer","minimum":0},"disabled":{"type":"boolean"},"lastError":{"type":"string"}},"required":["enabled","pending","deadLetters","delivered","failedAttempts","disabled"]};

const $WebhookUserEvent: Schema = {"type":"object","properties":{"type":{"type":"string","enum":["user.online","user.offline"]},"userId":{"$ref":"#/$defs/UserId"},"at":{"type":"number"},"status":{"$ref":"#/$defs/UserStatus"}},"required":["type","userId","at","status"]};

const $WireMember: Schema = {"type":"array","prefixItems":[{"$ref":"#/$defs/UserId"},{"$ref":"#/$defs/JsonValue"},{"type":"integer","minimum":-9007199254740991,"maximum":9007199254740991},{"$ref":"#/$defs/WireMemberExtra"}],"items":false,"minItems":2,"maxItems":4};

const $WireMemberExtra: Schema = {"type":"object","properties":{"o":{"const":1},"c":{"type":"integer","minimum":0},"t":{"anyOf":[{"$ref":"#/$defs/ClientType"},{"$ref":"#/$defs/ClientTypeCounts"}]},"l":{"type":"integer"}}};

/** `ChannelName` from protocol.ts, as data for `check`. */
export const ChannelNameSchema: Schema = {"$ref":"#/$defs/ChannelName"};
/** The definitions `ChannelNameSchema` refers to. */
export const ChannelNameDefs: Defs = { ChannelName: $ChannelName };

/** `UserId` from protocol.ts, as data for `check`. */
export const UserIdSchema: Schema = {"$ref":"#/$defs/UserId"};
/** The definitions `UserIdSchema` refers to. */
export const UserIdDefs: Defs = { UserId: $UserId };

/** `PushId` from protocol.ts, as data for `check`. */
export const PushIdSchema: Schema = {"$ref":"#/$defs/PushId"};
/** The definitions `PushIdSchema` refers to. */
export const PushIdDefs: Defs = { PushId: $PushId };

/** `ConnectQuery` from protocol.ts, as data for `check`. */
export const ConnectQuerySchema: Schema = {"type":"object","properties":{"userId":{"$ref":"#/$defs/UserId"},"userData":{"type":"string"},"clientType":{"$ref":"#/$defs/ClientType"},"_pk":{"type":"string","minLength":1,"maxLength":64,"pattern":"^[A-Za-z0-9_\\-.:]+$","msg":{"minLength":"connection id (_pk) is empty","maxLength":"connection id (_pk) is longer than 64 characters","pattern":"connection id (_pk) may only hold letters, digits and _-.:"}},"window":{"type":"string","pattern":"^\\d{1,3}$","msg":{"pattern":"window must be a whole number of members"}}}};
/** The definitions `ConnectQuerySchema` refers to. */
export const ConnectQueryDefs: Defs = { ClientType: $ClientType, UserId: $UserId };

/** `ServerMessage` from protocol.ts, as data for `check`. */
export const ServerMessageSchema: Schema = {"oneOf":[{"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"type":{"const":"sync"},"channel":{"$ref":"#/$defs/ChannelName"},"seq":{"type":"integer","minimum":0},"more":{"type":"boolean"},"self":{"type":"object","properties":{"connectionId":{"type":"string"},"userId":{"anyOf":[{"$ref":"#/$defs/UserId"},{"type":"null"}]}},"required":["connectionId","userId"]},"mode":{"$ref":"#/$defs/ChannelMode"},"window":{"type":"integer","minimum":0},"members":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"settings":{"$ref":"#/$defs/ClientSettings"},"now":{"type":"number"}},"required":["clientAmount","userAmount","type","channel","seq","more","self","mode","members","settings","now"]},{"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"type":{"const":"diff"},"seq":{"type":"integer","exclusiveMinimum":0},"now":{"type":"number"},"join":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"online":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"update":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"offline":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"leave":{"type":"array","items":{"$ref":"#/$defs/UserId"}},"quiet":{"type":"array","items":{"$ref":"#/$defs/WireMember"}},"out":{"type":"array","items":{"$ref":"#/$defs/UserId"}}},"required":["clientAmount","userAmount","type","seq","now"]},{"type":"object","properties":{"type":{"const":"herenow"},"id":{"type":"string"},"result":{"$ref":"#/$defs/ChannelHereNow"}},"required":["type","id","result"]},{"type":"object","properties":{"type":{"const":"pong"},"now":{"type":"number"}},"required":["type"]},{"type":"object","properties":{"type":{"const":"left"}},"required":["type"]},{"type":"object","properties":{"type":{"const":"error"},"code":{"$ref":"#/$defs/ErrorCode"},"message":{"type":"string"}},"required":["type","code","message"]},{"type":"object","properties":{"type":{"const":"push"},"id":{"$ref":"#/$defs/PushId"},"data":{"$ref":"#/$defs/JsonValue"},"channel":{"$ref":"#/$defs/ChannelName"},"from":{"anyOf":[{"$ref":"#/$defs/UserId"},{"type":"null"}]}},"required":["type","id","data","channel","from"]},{"type":"object","properties":{"type":{"const":"pushed"},"result":{"$ref":"#/$defs/PushResult"}},"required":["type","result"]},{"type":"object","properties":{"type":{"const":"users"},"seq":{"type":"integer","exclusiveMinimum":0},"full":{"type":"boolean"},"users":{"type":"array","items":{"$ref":"#/$defs/UserStatus"}}},"required":["type","seq","full","users"]}]};
/** The definitions `ServerMessageSchema` refers to. */
export const ServerMessageDefs: Defs = { ChannelHereNow: $ChannelHereNow, ChannelMode: $ChannelMode, ChannelName: $ChannelName, ClientSettings: $ClientSettings, ClientType: $ClientType, ClientTypeCounts: $ClientTypeCounts, ErrorCode: $ErrorCode, HereNowUser: $HereNowUser, JsonValue: $JsonValue, PushId: $PushId, PushMiss: $PushMiss, PushResult: $PushResult, PushTarget: $PushTarget, UserChannel: $UserChannel, UserId: $UserId, UserStatus: $UserStatus, WireMember: $WireMember, WireMemberExtra: $WireMemberExtra };

/** `HereNowResponse` from protocol.ts, as data for `check`. */
export const HereNowResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"channels":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"$ref":"#/$defs/ChannelHereNow"}}},"required":["channels"]}},"required":["code","content"]};
/** The definitions `HereNowResponseSchema` refers to. */
export const HereNowResponseDefs: Defs = { ChannelHereNow: $ChannelHereNow, ChannelName: $ChannelName, ClientType: $ClientType, ClientTypeCounts: $ClientTypeCounts, HereNowUser: $HereNowUser, JsonValue: $JsonValue, UserId: $UserId };

/** `ErrorResponse` from protocol.ts, as data for `check`. */
export const ErrorResponseSchema: Schema = {"type":"object","properties":{"code":{"type":"integer","minimum":400,"maximum":599},"error":{"type":"string"},"message":{"type":"string"}},"required":["code","error","message"]};
/** The definitions `ErrorResponseSchema` refers to. */
export const ErrorResponseDefs: Defs = {  };

/** `StatsResponse` from protocol.ts, as data for `check`. */
export const StatsResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/RoomStats"}},"required":["code","content"]};
/** The definitions `StatsResponseSchema` refers to. */
export const StatsResponseDefs: Defs = { ChannelMode: $ChannelMode, ChannelName: $ChannelName, RoomStats: $RoomStats, WebhookStats: $WebhookStats };

/** `HistoryResponse` from protocol.ts, as data for `check`. */
export const HistoryResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/HistoryPage"}},"required":["code","content"]};
/** The definitions `HistoryResponseSchema` refers to. */
export const HistoryResponseDefs: Defs = { ChannelName: $ChannelName, ClientType: $ClientType, ClientTypeCounts: $ClientTypeCounts, HistoryCursor: $HistoryCursor, HistoryEvent: $HistoryEvent, HistoryPage: $HistoryPage, JsonValue: $JsonValue, Member: $Member, MemberStatus: $MemberStatus, PresenceAction: $PresenceAction, UserId: $UserId };

/** `TokenClaims` from protocol.ts, as data for `check`. */
export const TokenClaimsSchema: Schema = {"$ref":"#/$defs/TokenClaims"};
/** The definitions `TokenClaimsSchema` refers to. */
export const TokenClaimsDefs: Defs = { ChannelPattern: $ChannelPattern, ClientType: $ClientType, JsonValue: $JsonValue, TokenClaims: $TokenClaims, UserId: $UserId };

/** `UsersResponse` from protocol.ts, as data for `check`. */
export const UsersResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"users":{"type":"object","propertyNames":{"type":"string"},"additionalProperties":{"$ref":"#/$defs/UserStatus"}}},"required":["users"]}},"required":["code","content"]};
/** The definitions `UsersResponseSchema` refers to. */
export const UsersResponseDefs: Defs = { ChannelName: $ChannelName, ClientType: $ClientType, ClientTypeCounts: $ClientTypeCounts, JsonValue: $JsonValue, UserChannel: $UserChannel, UserId: $UserId, UserStatus: $UserStatus };

/** `PushResponse` from protocol.ts, as data for `check`. */
export const PushResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/PushResult"}},"required":["code","content"]};
/** The definitions `PushResponseSchema` refers to. */
export const PushResponseDefs: Defs = { ChannelName: $ChannelName, ClientType: $ClientType, PushId: $PushId, PushMiss: $PushMiss, PushResult: $PushResult, PushTarget: $PushTarget };

/** `DisconnectResponse` from protocol.ts, as data for `check`. */
export const DisconnectResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/DisconnectResult"}},"required":["code","content"]};
/** The definitions `DisconnectResponseSchema` refers to. */
export const DisconnectResponseDefs: Defs = { ChannelName: $ChannelName, ClientType: $ClientType, DisconnectResult: $DisconnectResult, KickedClient: $KickedClient, UserId: $UserId };

/** `BanStatusResponse` from protocol.ts, as data for `check`. */
export const BanStatusResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/BanStatus"}},"required":["code","content"]};
/** The definitions `BanStatusResponseSchema` refers to. */
export const BanStatusResponseDefs: Defs = { Ban: $Ban, BanStatus: $BanStatus, UserId: $UserId };

/** `BanLiftedResponse` from protocol.ts, as data for `check`. */
export const BanLiftedResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"$ref":"#/$defs/BanLifted"}},"required":["code","content"]};
/** The definitions `BanLiftedResponseSchema` refers to. */
export const BanLiftedResponseDefs: Defs = { BanLifted: $BanLifted, UserId: $UserId };

/** `HttpClientResponse` from protocol.ts, as data for `check`. */
export const HttpClientResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"clientId":{"$ref":"#/$defs/ClientId"},"userId":{"$ref":"#/$defs/UserId"},"clientType":{"$ref":"#/$defs/ClientType"},"expiresAt":{"type":"integer"},"pushes":{"type":"array","items":{"$ref":"#/$defs/HeldPush"}},"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0}},"required":["clientId","userId","clientType","expiresAt","pushes","clientAmount","userAmount"]}},"required":["code","content"]};
/** The definitions `HttpClientResponseSchema` refers to. */
export const HttpClientResponseDefs: Defs = { ChannelName: $ChannelName, ClientId: $ClientId, ClientType: $ClientType, HeldPush: $HeldPush, JsonValue: $JsonValue, PushId: $PushId, UserId: $UserId };

/** `HttpClientBatchResponse` from protocol.ts, as data for `check`. */
export const HttpClientBatchResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"clients":{"type":"array","items":{"anyOf":[{"$ref":"#/$defs/HttpClientState"},{"$ref":"#/$defs/HttpClientRefusal"}]}}},"required":["clientAmount","userAmount","clients"]}},"required":["code","content"]};
/** The definitions `HttpClientBatchResponseSchema` refers to. */
export const HttpClientBatchResponseDefs: Defs = { ChannelName: $ChannelName, ClientId: $ClientId, ClientType: $ClientType, ErrorCode: $ErrorCode, HeldPush: $HeldPush, HttpClientRefusal: $HttpClientRefusal, HttpClientState: $HttpClientState, JsonValue: $JsonValue, PushId: $PushId, UserId: $UserId };

/** `HttpClientRemovedResponse` from protocol.ts, as data for `check`. */
export const HttpClientRemovedResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"clientAmount":{"type":"integer","minimum":0},"userAmount":{"type":"integer","minimum":0},"clientId":{"$ref":"#/$defs/ClientId"},"removed":{"type":"boolean"}},"required":["clientAmount","userAmount","clientId","removed"]}},"required":["code","content"]};
/** The definitions `HttpClientRemovedResponseSchema` refers to. */
export const HttpClientRemovedResponseDefs: Defs = { ClientId: $ClientId };

/** `HttpClientListResponse` from protocol.ts, as data for `check`. */
export const HttpClientListResponseSchema: Schema = {"type":"object","properties":{"code":{"const":200},"content":{"type":"object","properties":{"clients":{"type":"array","items":{"$ref":"#/$defs/HttpClientListing"}},"cursor":{"$ref":"#/$defs/ClientId"}},"required":["clients"]}},"required":["code","content"]};
/** The definitions `HttpClientListResponseSchema` refers to. */
export const HttpClientListResponseDefs: Defs = { ClientId: $ClientId, ClientType: $ClientType, HttpClientListing: $HttpClientListing, UserId: $UserId };

/** `WebhookPayload` from protocol.ts, as data for `check`. */
export const WebhookPayloadSchema: Schema = {"oneOf":[{"type":"object","properties":{"type":{"const":"presence.events"},"timestamp":{"type":"string"},"data":{"type":"object","properties":{"channel":{"$ref":"#/$defs/ChannelName"},"events":{"type":"array","items":{"anyOf":[{"$ref":"#/$defs/WebhookChannelEvent"},{"$ref":"#/$defs/WebhookOccupancyEvent"}]}}},"required":["channel","events"]}},"required":["type","timestamp","data"]},{"type":"object","properties":{"type":{"const":"user.events"},"timestamp":{"type":"string"},"data":{"type":"object","properties":{"part":{"type":"string"},"events":{"type":"array","items":{"$ref":"#/$defs/WebhookUserEvent"}}},"required":["part","events"]}},"required":["type","timestamp","data"]}]};
/** The definitions `WebhookPayloadSchema` refers to. */
export const WebhookPayloadDefs: Defs = { ChannelName: $ChannelName, ClientType: $ClientType, ClientTypeCounts: $ClientTypeCounts, JsonValue: $JsonValue, Member: $Member, MemberStatus: $MemberStatus, PresenceAction: $PresenceAction, UserChannel: $UserChannel, UserId: $UserId, UserStatus: $UserStatus, WebhookChannelEvent: $WebhookChannelEvent, WebhookOccupancyEvent: $WebhookOccupancyEvent, WebhookUserEvent: $WebhookUserEvent };
