"""Tweets in which a person tells of a crisis: an automated account never answers them.

Someone who writes that they want to die, that they hurt themselves, that they cannot breathe right now, that
their partner hits them or that their mother died this morning is not an opportunity for a wellness tip; a bot's
cheerful answer there is the harm the account's owner fears most, and a health niche (sleep, stress, mental
health) draws such tweets into its searches. :func:`crisis` says which kind of crisis a tweet tells of, or None.

These are the plain and the common indirect forms ("been thinking about just not waking up", "wrote letters to
everyone tonight, just in case", "purged twice today"); a rule cannot read every way a person says it (on tweets it
had not seen it found 8 to 13 of 30 and 8 of 40; 13 of 36 told in the words of health talk), so where the packaged
MiniLM embeds the tweets a second reader, :class:`CrisisModel`, reads them by meaning (with the rule, 24 of 40 on a
set neither had seen), and the model review is asked too (libs/gates/review.py, ``crisis_tweet``). It errs towards
leaving a tweet alone: a missed reply costs one opportunity. The same words are everyday hyperbole ("this workout
killed me", "100 burpees and i want to die 😂", "kms this alarm") or a professional's information ("If you or someone
you know is struggling …", "Stroke warning signs: …"): those are left to be answered.
"""

from __future__ import annotations

import re
from pathlib import Path

from libs.gates.entities import fold
from libs.gates.meaning import Embedder, TextReader, reader

# What follows "hit me", "beat me", "kicked me" when no one is hurt: "hit me up", "beats me in every race", "kicked me
# out of the kitchen", "hit me with a new PR"; and, where words stand between the person and the verb ("my wife
# said something that hit me hard"), a thought that struck.
_NOT_STRUCK = r"up|out|off|at|to|by|on|every|in (?:the|a|every|our)|with (?:the|a|this|that)"
_NOT_HARM = rf"(?! (?:{_NOT_STRUCK})\b)"
_NOT_HARM_AFAR = rf"(?! (?:{_NOT_STRUCK}|hard|like|that|how|when i)\b)"

_KINDS: dict[str, re.Pattern[str]] = {
    # Thoughts of suicide or self-harm, in the words people use for them on X, in English and the languages the
    # audience writes.
    "suicide or self-harm": re.compile(
        r"\b(?:kill(?:ing)? my ?self(?! slowly| with)|end(?:ing)? (?:it all|my life|things)|take my (?:own )?life|"
        r"suicid(?:e|al)(?! (?:squat|sprint|run|drill|set|burpee)s?\b)|unalive|sewerslide|"
        r"(?:want|wanna|wanted) to (?:disappear|not exist|stop existing|not wake up)|wish i (?:was|were) dead|"
        r"(?:thinking|thought) (?:a lot )?about (?:just )?not waking up|(?:sleep|dormir) (?:and|e|y) (?:never |not |"
        r"n[aã]o )?(?:wake|acordar|despertar)|stop existing|wish i could just disappear|"
        r"(?:do not|don'?t|dont) want to (?:be here|live|exist|wake up)(?: anymore| any more)?|"
        r"no (?:reason|point) (?:to|in) (?:live|living|going on)|what'?s the point (?:of|in) (?:living|going on)|"
        r"better off (?:without me|dead)|can'?t go on|tired of (?:fighting|living|being alive|existing)|"
        r"hate being alive|"
        r"(?:a )?burden to everyone|letters to everyone|won'?t need (?:it|them) where i'?m going|giving away my stuff|"
        r"how many (?:pills|tablets) it takes|self[- ]?harm\w*|cut(?:ting)? (?:my ?self|again)|"
        r"(?:burn(?:ed|t)|hurt(?:ing)?) my ?self|relapsed?\b[^.!?\n]{0,30}\b(?:cut|clean)|"
        r"(?:me )?quiero morir|ganas de morir|quitarme la vida|no quiero (?:estar aqu[ií]|vivir)|"
        r"envie de mourir|je veux mourir|me suicider|will (?:nicht mehr leben|sterben)|mich umbringen|"
        r"quero morrer|me matar|n[aã]o aguento mais|"
        # second round (2026-12-06, evening): a plan, a goodbye, a means at hand
        r"can'?t do this anymore|(?:stockpil|sav|hoard)\w* (?:up )?(?:my |all my )?(?:\w+ )?(?:pills|meds|tablets|"
        r"sertraline|prozac|oxy\w*)|tonight (?:feels like|is) the night|nobody would (?:even )?notice|"
        r"(?:stop|end) (?:for good|forever)|this is my last (?:post|tweet)|i'?d be gone already|"
        r"(?:drive|jump) (?:into|off|in front of)|en finir|ya no aguanto|ganas de desaparecer|se quit[oó] la vida|"
        # third round (2026-12-06, night): a goodbye written, sleep for ever, "kms" meant, the languages' own words
        r"won'?t need (?:\w+ ){0,3}where i'?m going|(?:goodbye|suicide|farewell) (?:letters?|notes?|messages?)|"
        r"once you'?ve decided|not wak(?:e|ing) up\W{0,3}(?:soon|forever|ever again|permanently)|=\s*not waking up|"
        r"(?:sleep|dormir|schlafen) (?:pour toujours|forever|para siempre|für immer)|"
        r"\bkms\b[^.!?\n]{0,20}\b(?:fr|for real|not joking|no joke|deadass|seriously)|"
        r"(?:quero|quiero|je veux|ich will) (?:sumir|desaparecer|dispara[iî]tre|verschwinden)|"
        r"(?:heute|diese) nacht (?:mache ich|ist) schluss|ich kann nicht mehr|"
        # 2026-12-07: scars hidden, skin hurt until it bleeds
        r"(?:scars|cuts|marks|burns) on my (?:arms?|wrists?|thighs?|legs?|stomach)|hide (?:the|my) (?:scars|cuts)|"
        r"(?:scratch|pick|claw)\w*(?: at)?(?: myself| my (?:skin|arms?|legs?))? until it bleeds|"
        # fourth round (2026-12-07): no point in anything, wanting it all to stop, others better off, the
        # goodbye of things given away ("i dont see the point of cold plunges anymore" names what has no point)
        r"(?:(?:don'?t|dont|do not|can'?t|cant) see|what'?s|whats) (?:even )?(?:the|any) (?:point|reason) "
        r"(?:(?:of|in|to) (?:anything|living|life|going on|it all|trying|keep going|keeping going)|anymore)|"
        r"(?:want|wanna|need) (?:it all|everything|all of it) to (?:stop|end)|"
        r"(?:nobody|no one|noone) would (?:even )?(?:care|miss me|notice)\b[^.!?\n]{0,15}\bif i (?:was|were|died|"
        r"disappeared|(?:was|were)n'?t (?:here|around))|"
        r"(?:everyone|everybody|people|the world|my family|they)(?: would| will|'?d)? (?:all )?(?:be )?(?:better off|"
        r"happier|better)\s+(?:if i (?:just )?(?:wasn'?t|wasnt|weren'?t|was not|were not) (?:around|here|alive)|"
        r"without me)|(?:won'?t|wont) be needing (?:them|it|these|those)(?: anymore| any more)?\s*(?:[.!\n]|$)|"
        r"(?:won'?t|wont) be around (?:much |for )?(?:longer|long)|"
        # sixth round (2026-12-07, health talk): a plan or a means asked about as health talk, a ledge, a lighter
        r"(?:planning|plan|how|going|want|wanna|gonna) (?:to |on )?end(?:ing)? it\b(?! (?:with|on|there|here|early|at|"
        r"after|before|by|today|tomorrow))|"
        r"how many (?:of (?:my|her|his|these) )?(?:\w+ ){0,2}(?:would|does|will|do) it take to "
        r"(?:not wake|never wake|die|end it|kill)|"
        r"(?:on|at) (?:the|a) (?:bridge|roof|ledge|balcony)\b[^.!?\n]{0,40}\bjump|"
        r"thinking (?:about|of) jumping\s*(?:[.!?\n]|$)|"
        r"(?:burn|cut|hurt)\w* my ?self (?:with|w/?) (?:a |my )?(?:lighter|razor|blade|knife|cigarette)|"
        r"no (?:quiero|puedo) seguir (?:viviendo|aqu[ií])|n[aã]o quero (?:mais )?viver|"
        r"not (?:planning on|going to) be(?:ing)? (?:here|alive) (?:by|for|next|after)|"
        r"(?:killed|hanged) (?:him|her)self|"
        r"won'?t need (?:it|them) soon|"
        r"how many of (?:my|her|his) (?:\w+ ){0,2}(?:would|does|will) it take(?=\s*(?:[.?!]|$))|"
        r"j'ai [ée]crit mes lettres|wrote my (?:goodbye )?letters)\b",
        re.IGNORECASE,
    ),
    # An eating disorder back (its subjects are banned as topics too; a relapse told is a crisis).
    "eating disorder": re.compile(
        r"\b(?:purg(?:ed|ing)(?! (?:my|the|our) (?:closet|pantry|wardrobe|fridge|stuff|inbox|phone|files|garage))|"
        r"restricting again|ed is back|(?:eating disorder|ed) (?:relapse|is back)|"
        r"weighed myself \w+ times|eating (?:basically )?nothing|barely eating|\d+ cals? max|"
        r"#(?:edtwt|proana|thinspo|meanspo)|<\s?\d{3} ?k?cals?|relapse is back|laxatives? (?:x|×)\s?\d+|"
        r"\d+ laxatives|number has to go down|(?:make|made|making) myself (?:throw up|sick|vomit|puke)|"
        r"(?:stopped|quit) eating (?:\w+ )?(?:\d+|for) days|(?:parei|dejé|deje) de comer|"
        # 2026-12-07: days on coffee and water, a weight never low enough, meals skipped or thrown up again
        r"(?:only|just|nothing but) (?:black )?coffee and water|(?:isn'?t|isnt|not|never) (?:\w+ )?low enough|"
        r"skipp(?:ed|ing) (?:dinner|lunch|breakfast|meals?|eating) again|hate my body|"
        r"threw up after (?:lunch|dinner|breakfast|eating|a meal|meals|every meal)(?: again)?|"
        # sixth round (2026-12-07, health talk): starving asked about as diet, hidden, compensated, in other languages
        r"(?:down to|only|eating|under|at) [2-8]\d\d ?(?:k?cals?|calories) (?:a|per) day\b"
        r"(?! (?:below|under|less|fewer|deficit|more|above|surplus))|"
        r"(?:not|haven'?t|havent|didn'?t) eat(?:en)? (?:anything )?(?:in|for) (?:[4-9]|1\d|four|five|six|seven|a week) "
        r"days|bmi (?:is |of |at )?1[0-6](?:\.\d)?\b[^.!?\n]{0,30}\b(?:goal|want|lower|still)|"
        r"hide (?:that i'?m |my )?(?:skipping meals|not eating|restricting|purging|throwing up)|"
        r"(?:did|do|ran|walked|had to)\b[^.!?\n]{0,30}\bto burn (?:off )?(?:an? |one |half an? )?"
        r"(?:apple|banana|cracker|rice cake|grape|carrot)|still (?:feel|look|see myself as) (?:so )?(?:fat|disgusting)|"
        r"feel disgusting every time|"
        r"me da asco comer|me (?:sigo )?(?:veo|viendo) (?:gorda|gordo)|llevo \d+ d[ií]as (?:sin comer|solo con)|"
        r"hate what i see(?: in the mirror|(?=\s*(?:[.!?\n]|$)))|so nothing stays in|"
        r"period stopped\b[^.!?\n]{0,40}\b(?:cal|restrict|cardio|weight)|"
        r"(?:anorexia|bulimia|ed) (?:voltou|volvi[oó]|is back|came back)|throwing up after (?:every|each) meal|"
        r"fast(?:ing)? day (?:[7-9]|[1-9]\d)\b[^\n]{0,80}\b(?:passed out|pass out|faint\w*|can'?t stop)|"
        r"safe foods? (?:are|is) down to)\b",
        re.IGNORECASE,
    ),
    # A medical emergency happening now (not a tweet about chest pain in general).
    "medical emergency": re.compile(
        r"\b(?:(?:i'?m|i am|i think i'?m|think i'?m|might be|is) having an? (?:heart attack|stroke|seizure)|"
        r"having a seizure|chest (?:pain|tightness|is tight)[^.!?\n]{0,40}\b(?:right now|now|jaw|arm|cold sweat|"
        r"sweating|won'?t stop)|(?:can'?t|cannot) (?:breathe|catch my breath)[^.!?\n]{0,30}\b(?:properly|right now|"
        r"help|blue|inhaler|chest|scared|ambulance|911)|lips (?:are |going )?(?:\w+ )?blue|face (?:is )?drooping|"
        r"(?:words|speech) (?:are |is )?(?:coming out )?slurred|"
        r"took (?:too many|way more of|more of|a bunch of|all (?:my|the)) (?:my )?(?:pills|tablets|meds)|"
        r"overdos(?:e|ed|ing)\b(?! on (?:coffee|caffeine|sugar|carbs|cake|chocolate|netflix|tv|memes|tiktok|cardio))|"
        r"(?:won'?t|doesn'?t|isn'?t) (?:wake up|respond|breathing)|no reacciona|respira raro|"
        r"(?:call(?:ed|ing)?|in) (?:an|the) ambulance|llam[eé] al 911|calling (?:911|999|112)|"
        r"bleeding (?:a lot|heavily)[^.!?\n]{0,30}\bweeks|(?:pregnant|weeks) and bleeding|"
        r"throat (?:feels like it'?s |is )?(?:closing|swelling)|lips (?:are )?swelling|"
        r"(?:isn'?t|not) (?:really )?respond(?:ing)? to me|fever of 10[4-9]|"
        r"(?:sugar|glucose|reading) (?:is |of )?[23]\d\b(?! ?(?:g\b|grams|%|min|mins|minutes|times|x\b|days|years|"
        r"k?cals?|calories|percent|per|servings))|"
        r"breathing (?:feels )?(?:weird|slow|shallow|funny)|took (?:way )?too much|fell (?:\w+ ){0,4}and can'?t get up|"
        r"chest has been tight|(?:pain|pressure|tight\w*)[^.!?\n]{0,30}\b(?:left arm|jaw)|"
        r"(?:took|taken|swallowed|tom[oó]|se tom[oó]|pris|genommen) (?:\w+ )?(?:all (?:of )?(?:my|his|her|the)|toda la "
        r"caja|todas (?:las|sus|mis)|tous (?:mes|ses)|the whole (?:box|bottle|pack)|alle (?:meine|seine|ihre))\s+"
        r"(?:\w+ )?(?:pills|meds|tablets|antidepressants|pastillas|antidépresseurs|cachets|tabletten)|"
        r"no responde|(?:someone|somebody|a man|a guy|he)(?: is|'s)? (?:trying to (?:get|break) in|breaking in)|"
        # sixth round (2026-12-07, health talk): the emergency asked as "is it normal", an overdose said flatly
        r"left arm (?:went|goes|going|to go|is going|gone) numb\b[^.!?\n]{0,40}\bchest|"
        r"elephant (?:is )?(?:sitting|standing) on (?:my chest|it)|"
        r"took (?:like |about |around |maybe )?\d{2,} (?:of (?:my|her|his|the) )?(?:\w+ )?(?:pills|tablets|tylenol|"
        r"advil|ibuprofen|paracetamol|acetaminophen|sleeping pills|meds|xanax|benadryl)|"
        r"collapsed\b[^.!?\n]{0,30}\b(?:isn'?t|not) respond|(?:doing|started|giving) cpr\b(?! (?:training|class|course|"
        r"cert))|"
        r"(?:swallowed|se trag[oó]|tragou|a aval[eé]) (?:a |una |uma |une )?(?:button battery|pila|bateria|pile|"
        r"magnets?)|worst headache of my life|(?:lips|tongue|throat) (?:and (?:lips|tongue|throat) )?(?:are |is )?"
        r"swelling|head(?:'s| is) bleeding|"
        r"(?:inhaler|albuterol|ventolin|puffer) (?:isn'?t|is not|not) (?:doing anything|working at all|helping at all)|"
        r"(?:grey|gray) in the face|grau im gesicht|druck auf der brust)\b",
        re.IGNORECASE,
    ),
    # Violence or abuse the person suffers.
    "abuse or violence": re.compile(
        r"\b(?:(?:he|she|they|my (?:husband|wife|partner|boyfriend|girlfriend|dad|father|mom|mum|mother|ex|stepdad|"
        r"stepfather|uncle)) (?:hits|hit|beats|beat|chokes|choked|hurts|kicked|punched|slapped|threw) "
        r"(?:me" + _NOT_HARM + r"|my phone|things at me)|"
        r"domestic (?:violence|abuse)|"
        r"(?:i was|i'?ve been|got) (?:raped|sexually assaulted|assaulted)|afraid to go home|"
        r"hiding in the (?:bathroom|closet)|comes into my room at night|"
        r"(?:takes|took) my (?:whole )?paycheck|doesn'?t let me (?:go out|leave|see)|protective order|"
        r"outside my (?:apartment|house|door|flat)[^.!?\n]{0,30}\b(?:banging|right now|won'?t leave)|"
        # sixth round (2026-12-07, health talk): violence told as an injury to heal, control, a threat, a child's
        r"(?:husband|wife|partner|boyfriend|girlfriend|bf|gf|dad|father|mom|mum|mother|ex|stepdad|stepmom|stepfather|"
        r"uncle)\b[^.!?\n]{0,40}\b(?:(?:hits|hit|shoved|shoves|choked|strangled|punishes|kicked|slapped|punched) "
        r"me\b" + _NOT_HARM_AFAR + r"|"
        r"locks? me in (?:my|the|his|her|our) (?:room|house|flat|apartment|basement|car|closet|bathroom))|"
        r"(?:he|she|they) (?:broke|fractured) my (?:wrist|arm|nose|ribs?|jaw)|showed up with a (?:knife|gun)|"
        r"touch\w* me\b[^.!?\n]{0,60}\b(?:feel sick|uncomfortable|scared|don'?t want)|"
        r"mich (?:\w+ ){0,3}(?:geschlagen|verprügelt|gewürgt)|"
        r"(?:pareja|novio|novia|marido|esposo|esposa|padre|madre|padrastro|ex) me (?:peg[oó]|golpe[oó]|"
        r"rompi[oó] (?:el|la))|"
        r"where (?:he|she) grabbed me|(?:got|was) (?:jumped|mugged|attacked)\b[^\n]{0,40}\b(?:ago|just now|"
        r"tonight|bleeding)|(?:has )?choked (?:me|you) before)\b",
        re.IGNORECASE,
    ),
    # A death or loss being grieved now, a miscarriage, a terminal diagnosis.
    "grief or terminal illness": re.compile(
        r"\b(?:(?:my|our) (?:\w+ ){0,2}(?:mom|mum|mother|dad|father|husband|wife|partner|son|daughter|baby|dog|cat|"
        r"brother|sister|best friend|grandma|grandmother|grandpa|grandfather|friend|boyfriend|girlfriend|child|kid)"
        r" (?:just |suddenly |unexpectedly )?(?:died|passed away|is gone|was killed)|(?:mom|mum|dad|mother|father) "
        r"passed away|lost (?:my|our) (?:\w+ )?(?:mom|mum|mother|dad|father|husband|wife|partner|son|daughter|baby|"
        r"brother|sister|best friend|child)|lost the baby|(?:had|i had|we had) a miscarriage|fausse couche|"
        r"stillb(?:orn|irth)|(?:the )?funeral (?:is|was) (?:today|tomorrow|yesterday)|hospice called|hours left|"
        r"(?:diagnosed with|i have|said) (?:terminal|stage (?:4|iv|four))|terminal diagnosis|palliative|"
        r"(?:it'?s|its|it is|is) stage (?:4|iv|four)\b(?! of)|talking about (?:weeks|months)\b(?! of)|"
        r"(?:given|gave (?:her|him|me|us)) (?:weeks|months) (?:left|to live)|"
        r"(?:weeks|months),? not (?:months|years)|(?:ist|sind) (?:gestern|heute) gestorben|"
        r"buried my (?:mom|mum|mother|dad|father|husband|wife|son|daughter|brother|sister|best friend)|"
        r"(?:cancer|it) took (?:her|him) in|"
        r"(?:mom|mum|mother|dad|father|husband|wife|son|daughter|brother|sister|grandma|grandpa) (?:passed|died)"
        r"(?: away)? (?:this morning|today|tonight|last night|yesterday|an hour ago|earlier today)|"
        r"(?:results?|diagnos\w+|biopsy)[^\n]{0,40}\b(?:ALS|motor neurone disease|glioblastoma|pancreatic cancer|"
        r"metasta\w+|malignant|inoperable)\b|how do you (?:even )?process this|"
        # sixth round (2026-12-07, health talk): a death found, a heartbeat gone, news given today, in other languages
        r"found (?:my|our|him|her) (?:\w+ )?(?:dead|unresponsive|not breathing)|(?:showed|found|there was|there'?s) no "
        r"heartbeat|(?:couldn'?t|could not|can'?t) find (?:a |the )?heartbeat|(?:faleceu|morreu|falleci[oó]|muri[oó]) "
        r"(?:ontem|hoje|ayer|hoy|anoche|esta (?:manhã|mañana))|(?:told (?:us|me)|it'?s|confirmed)[^\n]{0,30}\b(?:"
        r"glioblastoma|ALS|pancreatic cancer)\b|(?:spread|metastasi\w+) (?:to|into) (?:the|her|his|my) "
        r"(?:liver|bones|brain|lungs)|(?:it'?s|cancer is) now in (?:the|her|his|my) (?:liver|bones|brain|lungs)|"
        r"(?:said|recommend\w*) hospice\b|(?:moving|going|went) (?:\w+ )?(?:to|into) hospice(?! nurs| work| volunt)|"
        r"(?:wasn'?t|was not) breathing\b[^\n]{0,25}\b(?:gone|died)|"
        r"(?:\d+|few|couple of) (?:to \d+ )?(?:weeks|months) (?:to live|if (?:treatment|chemo|we'?re lucky)))",
        re.IGNORECASE,
    ),
}
# A professional's or an organisation's information about these subjects: not a crisis told.
_INFORMATION = re.compile(
    r"\b(?:if you or someone you know|call or text \d+|warning signs|here(?:'s| is) what to do|learn (?:the|be) fast|"
    r"happens in roughly|resources below|awareness|know the signs|prevention|did you know|be fast|"
    r"suicide (?:rates?|data|statistics)|researchers (?:found|point|say)|new (?:\w+ )?data|linked to|"
    r"associated with|(?:higher|increased|lower|reduced) risk of|recall(?:ed|s)?|"
    r"for my (?:\w+ )?(?:paper|class|thesis|essay|course))\b|\b\w+ tip:|\bhere[.,:]|\b\w+ signs:",
    re.IGNORECASE,
)
# A milestone of recovery ("2 years clean today"), unless the clean time has just ended.
_RECOVERED = re.compile(r"\b(?:free today|years? clean)\b", re.IGNORECASE)
_RELAPSE = re.compile(r"\b(?:again|relaps\w*)\b", re.IGNORECASE)
# A joke: the words of despair and of emergencies are everyday hyperbole ("this workout killed me", "100 burpees
# and i want to die 😂"), unless the writer says they mean it. Abuse and a death are not joked about this way
# ("last night he hit me when i 'cheated' … lol" is a crisis masked).
_JOKING = re.compile(r"[😂🤣]|\blo+l\b|\blmf?ao+\b|\bha(?:ha)+\b", re.IGNORECASE)
_MEANT = re.compile(r"\b(?:not joking|no joke|i'?m serious|for real this time|deadass|lighter|razor|blade)\b",
                    re.IGNORECASE)  # a means of self-harm named is not a joke, whatever the "lol"
_HYPERBOLE_KINDS = ("suicide or self-harm", "eating disorder", "medical emergency")
# A loss remembered years on ("lost my brother to an overdose in 2016.", "our stillborn daughter would've been 6
# today."): a clause that dates what it tells to years ago, with nothing of now in it, is not read; a crisis told
# beside it ("lost my brother in 2019, and i dont want to be here anymore"), or with now in the same clause ("had a
# heart attack in 2019 and now the same pain", "in 2019 i started cutting myself and i still do it"), still is.
_REMEMBERED = re.compile(
    r"\b(?:in (?:19|20)\d\d|\d+ (?:years?|yrs) (?:ago|since|later)|(?:years|yrs) ago|would'?ve been \d+|"
    r"anniversary|when i was (?:\d+|a kid|little|young))\b", re.IGNORECASE)
_NOW = re.compile(r"\b(?:now|rn|currently|still|again|tonight|(?:\d+|a few|an|one) (?:min(?:ute)?s?|hours?) ago)\b",
                  re.IGNORECASE)
_CLAUSE = re.compile(r"[^.!?\n,;]+[.!?\n,;]*")


def _unremembered(text: str) -> str:
    """``text`` without its clauses that only remember a loss of years ago."""
    return "".join(c for c in _CLAUSE.findall(text) if not (_REMEMBERED.search(c) and not _NOW.search(c)))


def crisis(text: str) -> str | None:
    """Which crisis the tweet tells of ("suicide or self-harm", "eating disorder", "medical emergency", "abuse or
    violence", "grief or terminal illness"), or None."""
    folded = fold(text).replace("’", "'")
    if _INFORMATION.search(folded) or (_RECOVERED.search(folded) and not _RELAPSE.search(folded)):
        return None
    joking = _JOKING.search(folded) and not _MEANT.search(folded)
    told = _unremembered(folded)
    return next((kind for kind, pattern in _KINDS.items()
                 if pattern.search(told) and not (joking and kind in _HYPERBOLE_KINDS)), None)


# ---------------------------------------------------------------- by meaning

MODEL_PATH = Path(__file__).with_name("crisis_model.json")
BY_MEANING = "told in other words"  # the kind the crisis model reports: it says that, not which crisis


def crisis_reader(embedder: Embedder | None = None) -> TextReader:
    """Reads texts for a crisis: the rule (:func:`crisis`), and when ``embedder`` is the one the crisis model was
    trained on, the model for what the rule leaves (:data:`BY_MEANING`), information and jokes included: the model
    was trained on such look-alikes and measured so.

    The model (libs/gates/meaning.py; bench/crisis_model.py trains it on the blind sets' crisis tweets against
    their look-alikes and ~10,000 ordinary texts the rule leaves alone) reads what the rule's words miss ("best
    sleep aid = not waking up. soon", "parei de comer faz 9 dias"), and refuses more look-alikes than the rule (10
    of 40 hard ones on the held-out set; about 1 in 1,000 ordinary texts): a missed crisis is the harm, a lost
    opportunity costs one reply."""
    return reader(crisis, MODEL_PATH, BY_MEANING, embedder)


BY_RULE: TextReader = crisis_reader()  # the rule alone: where no MiniLM embedder is at hand
