/**
 * The GoEasy code of seed `000_…` (the article "实现:websocket判断用户是否在线"), copied
 * verbatim, comments and all: only the host ('hangzhou.goeasy.io') and the appkey
 * ("my_appkey") are replaced, by `seedSnippets(host, appkey)`. The GoEasy tests run these
 * against the service with `partykit-presence/goeasy` as `GoEasy`, in Node and in Chromium.
 */

/** 一、初始化客户端在线状态 */
const CONSTRUCT = `
    var goEasy = new GoEasy({
        host:'hangzhou.goeasy.io',//应用所在的区域地址: 【hangzhou.goeasy.io |singapore.goeasy.io】
        appkey: "my_appkey",
        userId: "用户唯一标识,如 user-001", //必须指定,否则无法实现客户端上下线监听功能
        userData: "用户的附加信息,比如性别,年龄" //更多的用户信息,其它已监听上下线信息的用户,收到该用户上线信息里会包含此部分内容
    });
`;

/** 二、监听客户端上下线状态变化 */
const SUBSCRIBE_PRESENCE = `
    goEasy.subscribePresence({
        channel: "my_channel",
        onPresence: function(presenceEvents){
            console.log("Presence events: ", JSON.stringify(presenceEvents));
        }        
    });
`;

/** 三、取消监听客户端上下线 */
const UNSUBSCRIBE_PRESENCE = `
    goEasy.unsubscribePresence({
        channel: "my_channel"
    });
`;

/** 四、客户端获取当前在线客户端列表 */
const HERE_NOW = `
    goEasy.hereNow({
        channels: ["my_channel", "my_channel2"],
        includeUsers: true, //可选项,是否返回用户列表,默认false
        distinct: true //可选项,相同userId的客户端,列表中只保留一个,默认false
    },function(response) {
        alert("hereNow response: " + response);//json格式的response           
        /**
        response示例:
        {
           "code": 200,
           "content": {
              "channels": {
                 "channel_A": {      //channel
                    "channel": "channel_A",
                    "clientAmount": 2,    //在线客户端数量
                    "userAmount": 2,      //在线用户数量
                    "users": [    //在线用户id列表
                       {"id":"Jack","data":"18 years old"}, //在线用户
                       {"id":"Ted","data":""}                                    
                    ]
                 },
                 "channel_B": {       //channel
                    "channel": "channel_B",
                    "clientAmount": 1,     
                    "userAmount": 1,       
                    "users": [     
                       {"id":"Tom","data":"18 years old"}
                    ]
                 }
              }
           }
        }
        **/
    });
`;

/** 五、服务器端通过Rest API获取在线客户端列表: the request line, as the seed writes it. */
const REST_URL = "http(s)://<Rest Host>/herenow?appkey={appkey}&channel={channel}&includeUsers={includeUsers}&distinct={distinct}";

/** The userId and userData the seed's client is built with. */
export const SEED_USER = { id: "用户唯一标识,如 user-001", data: "用户的附加信息,比如性别,年龄" };
/** The channels the seed names. */
export const SEED_CHANNELS = ["my_channel", "my_channel2"] as const;

/** The seed's snippets for this host and key (nothing else changed). */
export function seedSnippets(host: string, appkey: string) {
  const at = (code: string) => {
    const changed = code.replace("host:'hangzhou.goeasy.io'", `host:'${host}'`).replace('appkey: "my_appkey"', `appkey: "${appkey}"`);
    if (changed.includes("hangzhou.goeasy.io',") || changed.includes("my_appkey")) throw new Error("the seed's host or appkey was not replaced");
    return changed;
  };
  return {
    construct: at(CONSTRUCT),
    subscribePresence: SUBSCRIBE_PRESENCE,
    unsubscribePresence: UNSUBSCRIBE_PRESENCE,
    hereNow: HERE_NOW,
    /** The REST URL with the seed's placeholders filled in (http: the dev server). */
    restUrl: (query: { channel: string; includeUsers: boolean; distinct: boolean }) =>
      REST_URL.replace("http(s)://<Rest Host>", `http://${host}`)
        .replace("{appkey}", encodeURIComponent(appkey))
        .replace("{channel}", encodeURIComponent(query.channel))
        .replace("{includeUsers}", String(query.includeUsers))
        .replace("{distinct}", String(query.distinct)),
  };
}
