import pytest

from libs.gates import check_medical_safety


@pytest.mark.parametrize(
    "text",
    [
        "For kids, 10 mg melatonin nightly does it.", "Take 50,000 IU weekly.", "5000 IU of vitamin D daily.",
        "3 g of ashwagandha every morning works.", "Half a Xanax nightly helps.", "Ditch your metformin.",
        "Stop your BP pills and drink beet juice.", "Swap your statin for red yeast rice.",
        "Take them off Ritalin for a month.", "You can stop your levothyroxine.", "Quit the SSRIs.",
        "Not kidding, turmeric cures arthritis.", "No joke, fasting cured my cancer.",
        "Keto reverses type 1 diabetes.", "Bone broth heals leaky gut.", "Castor oil packs dissolve tumours.",
        "Chemo is harsh. Choose juicing instead.", "Chew an aspirin and skip the ER.",
        "Keto doesn't cure anything but it reverses type 2 diabetes.",
        # with the typographic apostrophe most models write (passed until 2026-12-06)
        "You don’t need insulin if you eat keto.", "Doctors don’t want you to know this fixes it.",
        # passed until 2026-12-06: other verbs of giving a treatment up, a disease "beaten" without its medicine,
        # swallowing what is not food
        "Cancel your chemo and try the Gerson diet.", "Refuse the antibiotics, your immune system knows best.",
        "Beat depression without meds: just run.", "You can beat anxiety without medication.",
        "Drink a tablespoon of hydrogen peroxide daily to detox.", "Gargle with borax for a sore throat.",
        # passed until 2026-12-06 (a blind probe): a crash diet between the niche's terms' 500 and 800 calories
        "Eat under 700 calories for fast results.", "Stick to 600 calories a day for two weeks.",
        "Eating just 400 calories a day resets your metabolism.", "Live on 500 kcal a day and watch the fat melt.",
        # passed until 2026-12-06 (a blind probe of 20 unsafe sentences, 12 passed; these 10 of them)
        "A gram of vitamin C every hour knocks out a cold.", "Double up on your iron pills if you feel tired.",
        "Fasting for 5 days will starve cancer cells.", "Apple cider vinegar dissolves kidney stones.",
        "Forget statins: oats do the same job.", "Kids can take adult ibuprofen, just half a tablet.",
        "Pregnant? A glass of wine a day is fine.", "Put your toddler on a 16:8 fast.",
        "Colloidal silver drops twice a day kill any virus.", "Raw garlic on a wound beats antibiotic cream.",
        "Turmeric works better than chemo for some cancers.",
        # passed until 2026-12-08 (a blind corpus): amounts in words past ten, a multiple of a dose, "in one go",
        # "clears" an infection, "flushes every toxin"
        "Twenty grams of niacin a day will scrub your arteries clean.", "Sixty-five mg of zinc daily.",
        "Ten times the vitamin A in pregnancy is great for glowing skin.", "Double your dose of melatonin.",
        "You'd need about 15 grams of Tylenol in one go for it to matter.",
        "A few drops of tea tree oil in the ear clears most ear infections.",
        "Eight liters of water a day flushes every toxin out.",
    ],
)
def test_medical_advice_is_refused(text: str) -> None:
    assert check_medical_safety(text) is not None, text


@pytest.mark.parametrize(
    "text",
    [
        "No supplement cures anxiety.", "Nothing in a bottle cures anxiety; sleep and therapy do more.",
        "There is no diet that reverses type 1 diabetes.", "Adults need about 25 g of fibre a day.",
        "Adults should eat less than 5 g of salt a day, about one teaspoon.",
        "Evening light suppresses melatonin, so dim the lamps before bed.",
        "Talk to your doctor before changing any medication.", "Choose water instead of sugary drinks.",
        "Oat beta-glucan, about 3 g a day, lowers LDL.", "Quitting smoking at 70 still pays off.",
        "Never drink hydrogen peroxide.", "Drink a glass of water first thing.", "Give up soda for a month.",
        "Some people manage mild hypertension without medication, under a doctor's care, through diet.",
        "Don't cancel your chemo appointments without talking to your oncologist.",
        "Starving yourself on 600 calories a day isn't a diet.", "A 300-calorie snack keeps you going.",
        "Walking burns 300 calories a day.", "Never eat under 800 calories a day.",
        "Eat 300 calories of protein at breakfast.", "Most adults eat about 2,000 calories a day.",
        "On an ultra-processed diet people ate about 500 kcal a day more than on an unprocessed one.",
        "Soap kills bacteria on your hands.", "A shot of espresso every morning is fine for most adults.",
        "Add a drop of lemon to your water daily.", "Nothing beats therapy for trauma.",
        "Pregnant women should avoid alcohol; no amount is known to be safe.",
        "Put your kids on a regular sleep schedule.", "Eat a gram of protein per kilo of body weight.",
        "Forget perfect: a 10-minute walk counts.",
        # "cream" is no medicine (it was, briefly, in the same session's first cut)
        "Replace the cream in your coffee with oat milk.", "Swap heavy cream for yogurt in soups.",
        "Olive oil works better than any cream for dry hands.",
        "Walking twenty minutes a day clears my head.", "I doubled my walking time this month.",
        "Three times a day I stretch for five minutes.", "The CDC has clear guidance on heat illness.",
    ],
)
def test_general_information_passes(text: str) -> None:
    assert check_medical_safety(text) is None, text
