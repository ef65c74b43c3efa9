//! Sentence frames per language and kind, and the line builder.
//!
//! A frame holds one `{}` for the value; scam-cue frames mark the cue
//! phrase with `[[…]]` instead.

use super::{Line, Rng, values};

const LANGS: &[&str] = &["en", "de", "fr", "es"];

/// (language, slot kind, frame)
const FRAMES: &[(&str, &str, &str)] = &[
    ("en", "card", "Here is my card number: {}"),
    ("en", "card", "can you charge {} instead? exp 04/27"),
    ("en", "card", "My card {} keeps getting declined"),
    ("en", "card", "{} is the card I used for the order"),
    (
        "en",
        "card",
        "The number on the card is {}, cvc on the back.",
    ),
    ("de", "card", "Meine Kartennummer ist {}"),
    (
        "de",
        "card",
        "Bitte belasten Sie die Karte {} gültig bis 11/26",
    ),
    ("de", "card", "Kreditkarte: {} (Visa)"),
    ("fr", "card", "Voici ma carte bancaire : {}"),
    ("fr", "card", "Le paiement avec la carte {} a échoué"),
    ("fr", "card", "numéro de CB {} exp 08/28"),
    ("es", "card", "Mi tarjeta es la {}"),
    ("es", "card", "Pagué con la tarjeta {} y no funcionó"),
    ("es", "card", "número de tarjeta: {}"),
    ("en", "iban", "Please refund to my account {}"),
    ("en", "iban", "IBAN: {}"),
    ("en", "iban", "my bank details are {} (name: J. Smith)"),
    ("de", "iban", "Bitte überweisen Sie auf {}"),
    ("de", "iban", "Meine IBAN lautet {}."),
    ("de", "iban", "IBAN {} BIC COBADEFFXXX"),
    ("fr", "iban", "Mon IBAN est {}"),
    ("fr", "iban", "Remboursez-moi sur le compte {} svp"),
    ("es", "iban", "Mi IBAN es {}"),
    ("es", "iban", "Devolución a la cuenta {}, gracias"),
    ("en", "ssn", "my SSN is {}"),
    ("en", "ssn", "Social security number: {}"),
    (
        "en",
        "ssn",
        "They asked for {} on the form, is that my social?",
    ),
    ("en", "nino", "My National Insurance number is {}"),
    ("en", "nino", "NI number {} for the payroll"),
    ("es", "dni", "Mi DNI es {}"),
    ("es", "dni", "DNI: {} a nombre de Laura"),
    ("es", "nie", "Tengo NIE, es el {}"),
    ("es", "nie", "NIE {}"),
    ("fr", "nir", "Mon numéro de sécurité sociale : {}"),
    ("fr", "nir", "n° sécu {}"),
    ("en", "cf", "codice fiscale {}"),
    ("es", "cf", "Mi codice fiscale italiano es {}"),
    ("en", "bsn", "My BSN is {}"),
    ("de", "steuer", "Meine Steuer-ID ist {}"),
    ("de", "steuer", "Identifikationsnummer: {}"),
    ("en", "phone_intl", "You can reach me on {}"),
    ("en", "phone_intl", "my number: {}"),
    ("en", "phone_intl", "{} is my WhatsApp"),
    ("de", "phone_intl", "Erreichbar unter {}"),
    ("de", "phone_intl", "Meine Nummer ist {}"),
    ("fr", "phone_intl", "Vous pouvez me joindre au {}"),
    ("fr", "phone_intl", "mon numéro {}"),
    ("es", "phone_intl", "Mi número es {}"),
    ("es", "phone_intl", "Escríbeme al {}"),
    ("en", "phone_nat", "Call me on {} after 5pm"),
    ("en", "phone_nat", "my mobile is {}"),
    ("en", "phone_nat", "phone: {}"),
    ("de", "phone_nat", "Rufen Sie mich an: {}"),
    ("de", "phone_nat", "Handy {}"),
    ("de", "phone_nat", "meine Telefonnummer lautet {}"),
    ("fr", "phone_nat", "Appelez-moi au {}"),
    ("fr", "phone_nat", "mon portable : {}"),
    ("es", "phone_nat", "Llámame al {}"),
    ("es", "phone_nat", "mi móvil es el {}"),
    ("es", "phone_nat", "teléfono {}"),
    ("en", "email", "my email is {}"),
    ("en", "email", "Send the invoice to {} please"),
    ("en", "email", "{} is the address on the account"),
    ("de", "email", "Meine E-Mail: {}"),
    ("de", "email", "Schreiben Sie an {}."),
    ("fr", "email", "Mon adresse mail est {}"),
    ("fr", "email", "Envoyez la facture à {} merci"),
    ("es", "email", "Mi correo es {}"),
    ("es", "email", "Escriba a {}, por favor"),
    ("en", "cred", "here's the key: {}"),
    ("en", "cred", "our integration uses {} — is that ok?"),
    ("en", "cred", "token={}"),
    ("de", "cred", "Hier ist der Token {} für den Zugang"),
    ("fr", "cred", "voici la clé API {}"),
    ("es", "cred", "la clave de la API es {}"),
    ("en", "password", "my password is {}"),
    ("en", "password", "Password: {}"),
    ("en", "password", "login is jsmith, password {}"),
    ("de", "password", "Mein Passwort ist {}"),
    ("de", "password", "Passwort: {}"),
    ("de", "password", "Kennwort = {}"),
    ("fr", "password", "mon mot de passe est {}"),
    ("fr", "password", "Mot de passe : {}"),
    ("es", "password", "mi contraseña es {}"),
    ("es", "password", "Contraseña: {}"),
    ("en", "ip", "my IP address is {}"),
    ("en", "ip", "the router shows {} as gateway"),
    ("de", "ip", "Meine IP ist {}"),
    ("fr", "ip", "mon adresse IP : {}"),
    ("es", "ip", "la IP del servidor es {}"),
    ("en", "near", "Order {} still hasn't arrived."),
    ("en", "near", "It says {} on the receipt"),
    ("en", "near", "Tracking number {}"),
    ("en", "near", "I paid {} yesterday"),
    ("en", "near", "The app is on {} now"),
    ("en", "near", "Delivery was scheduled for {}"),
    ("de", "near", "Bestellnummer {}"),
    ("de", "near", "Die Sendung {} ist noch nicht da"),
    ("de", "near", "Ich habe am {} bestellt"),
    ("de", "near", "Rechnung {} ist falsch"),
    ("fr", "near", "Commande {} toujours pas reçue"),
    ("fr", "near", "Le colis {} est bloqué"),
    ("fr", "near", "J'ai payé {} hier"),
    ("es", "near", "El pedido {} no ha llegado"),
    ("es", "near", "Número de seguimiento {}"),
    ("es", "near", "Lo compré el {}"),
    ("en", "link", "see {} for details"),
    ("de", "link", "Die Anleitung ist hier: {}"),
    ("fr", "link", "tout est expliqué sur {}"),
    ("es", "link", "más información en {}"),
    (
        "en",
        "cue",
        "Hi, this is support. [[Tell me the code you just received]] so I can verify you.",
    ),
    (
        "en",
        "cue",
        "To fix it [[install AnyDesk]] and send me the ID.",
    ),
    ("en", "cue", "Please [[share your screen]] so I can look."),
    (
        "en",
        "cue",
        "You can also pay with [[gift cards]], it's faster.",
    ),
    (
        "en",
        "cue",
        "[[Your account will be closed]] today unless you confirm.",
    ),
    (
        "en",
        "cue",
        "Please send the payment to [[our new bank account]] from now on.",
    ),
    ("en", "cue", "We need it now: [[final warning]]."),
    ("de", "cue", "[[Nennen Sie mir den Code]] aus der SMS."),
    (
        "de",
        "cue",
        "Bitte [[installieren Sie AnyDesk]], dann helfe ich.",
    ),
    ("de", "cue", "Zahlung bitte per [[Geschenkkarte]]."),
    (
        "de",
        "cue",
        "[[Ihr Konto wird gesperrt]], wenn Sie nicht antworten.",
    ),
    (
        "de",
        "cue",
        "Wir haben [[unsere neue Bankverbindung]] per Mail geschickt.",
    ),
    ("fr", "cue", "[[Donnez-moi le code]] reçu par SMS."),
    ("fr", "cue", "Merci de [[partager votre écran]] maintenant."),
    ("fr", "cue", "Vous pouvez régler en [[carte cadeau]] aussi."),
    ("fr", "cue", "[[Votre compte sera suspendu]] sous 24h."),
    ("fr", "cue", "C'est votre [[dernier avertissement]]."),
    ("es", "cue", "[[Dame el código]] que te llegó por SMS."),
    ("es", "cue", "[[Instala AnyDesk]] y te ayudo."),
    ("es", "cue", "Puede pagar con [[tarjetas regalo]]."),
    ("es", "cue", "[[Su cuenta será bloqueada]] hoy."),
    ("es", "cue", "Es el [[último aviso]]."),
];

const FILLERS: &[(&str, &str)] = &[
    ("en", "Hi there!"),
    ("en", "Thanks for your help."),
    ("en", "I ordered 2 pairs on March 3rd."),
    ("en", "The total was $59.90 incl. shipping."),
    ("en", "Is the store open until 6pm?"),
    ("en", "My package was supposed to arrive on 12/05."),
    ("en", "Can I exchange size 42 for 43?"),
    ("en", "It's the blue one, item 3 of 4."),
    ("en", "Sorry for the late reply, I was away for 2 weeks."),
    ("en", "The app crashed after update 5.2.1."),
    ("de", "Hallo zusammen,"),
    ("de", "Vielen Dank im Voraus!"),
    ("de", "Ich habe am 3. März 2 Paar bestellt."),
    ("de", "Der Betrag war 59,90 € inkl. Versand."),
    ("de", "Die Lieferung sollte am 12.05. kommen."),
    ("de", "Geht Größe 42 statt 43?"),
    ("fr", "Bonjour,"),
    ("fr", "Merci d'avance."),
    ("fr", "J'ai commandé 2 articles le 3 mars."),
    ("fr", "Le total était de 59,90 € livraison comprise."),
    ("fr", "Le colis devait arriver le 12/05."),
    ("fr", "Je voudrais échanger la taille 42 contre 43."),
    ("es", "Hola,"),
    ("es", "¡Gracias de antemano!"),
    ("es", "Pedí 2 pares el 3 de marzo."),
    ("es", "El total fue 59,90 € con envío."),
    ("es", "El paquete debía llegar el 12/05."),
    ("es", "¿Puedo cambiar la talla 42 por la 43?"),
];

const LINKS: &[&str] = &[
    "https://www.example.com/help/returns",
    "https://support.example.org/faq?id=12",
    "www.example.net/guide",
    "https://docs.example.com/start",
];

fn frame(rng: &mut Rng, lang: &str, kind: &str) -> &'static str {
    let options: Vec<&'static str> = FRAMES
        .iter()
        .filter(|f| f.1 == kind && (f.0 == lang || kind_is_lang_free(kind)))
        .map(|f| f.2)
        .collect();
    let options = if options.is_empty() {
        FRAMES.iter().filter(|f| f.1 == kind).map(|f| f.2).collect()
    } else {
        options
    };
    *rng.pick(&options)
}

fn kind_is_lang_free(kind: &str) -> bool {
    matches!(
        kind,
        "ssn" | "nino" | "dni" | "nie" | "nir" | "cf" | "bsn" | "steuer"
    )
}

/// Fills `frame` into `line`: the value goes in place of `{}`.
fn fill(line: &mut Line, frame: &str, label: &'static str, value: &str) {
    let (a, b) = frame.split_once("{}").unwrap_or((frame, ""));
    line.push(a);
    line.value(label, value);
    line.push(b);
}

/// Appends one slot of `kind`.
fn slot(rng: &mut Rng, line: &mut Line, lang: &'static str, kind: &str) {
    let f = if kind == "phone" {
        "{}"
    } else {
        frame(rng, lang, kind)
    };
    match kind {
        "card" => fill(line, f, "payment_card", &values::card(rng)),
        "iban" => fill(line, f, "iban", &values::iban(rng)),
        "ssn" => {
            if rng.chance(0.2) && f.contains("SSN") {
                fill(
                    line,
                    f,
                    "national_id",
                    &values::ssn(rng).replace(['-', ' '], ""),
                );
            } else {
                fill(line, f, "national_id", &values::ssn(rng));
            }
        }
        "nino" => fill(line, f, "national_id", &values::nino(rng)),
        "dni" => fill(line, f, "national_id", &values::dni(rng)),
        "nie" => fill(line, f, "national_id", &values::nie(rng)),
        "nir" => fill(line, f, "national_id", &values::nir(rng)),
        "cf" => fill(line, f, "national_id", &values::codice_fiscale(rng)),
        "bsn" => fill(line, f, "national_id", &values::bsn(rng)),
        "steuer" => fill(line, f, "national_id", &values::steuer_id(rng)),
        "phone" => {
            let (number, national) = values::phone(rng);
            let kind = if national { "phone_nat" } else { "phone_intl" };
            let f = frame(rng, lang, kind);
            fill(line, f, "phone", &number);
        }
        "email" => fill(line, f, "email", &values::email(rng)),
        "cred" => {
            let (c, _) = values::credential(rng);
            fill(line, f, "credential", &c);
        }
        "password" => fill(line, f, "credential", &values::password(rng)),
        "ip" => fill(line, f, "ip_address", &values::ip(rng)),
        "near" => fill(line, f, "", &values::near_miss(rng)),
        "link" => fill(line, f, "link", *rng.pick(LINKS)),
        _ => {
            // scam cue: [[…]] marks the label
            let (a, rest) = f.split_once("[[").unwrap_or((f, ""));
            let (cue, b) = rest.split_once("]]").unwrap_or((rest, ""));
            line.push(a);
            line.value("scam_cue", cue);
            line.push(b);
        }
    }
}

const KINDS: &[(&str, usize)] = &[
    ("card", 10),
    ("iban", 10),
    ("ssn", 3),
    ("nino", 2),
    ("dni", 2),
    ("nie", 1),
    ("nir", 2),
    ("cf", 1),
    ("bsn", 1),
    ("steuer", 1),
    ("phone", 10),
    ("email", 9),
    ("cred", 8),
    ("password", 4),
    ("ip", 4),
    ("link", 2),
    ("cue", 5),
    ("near", 25),
];

fn kind(rng: &mut Rng) -> &'static str {
    let total: usize = KINDS.iter().map(|k| k.1).sum();
    let mut r = rng.below(total);
    for (k, w) in KINDS {
        if r < *w {
            return k;
        }
        r -= w;
    }
    "near"
}

/// One labelled line.
pub fn line(rng: &mut Rng) -> Line {
    let lang = *rng.pick(LANGS);
    let mut line = Line {
        lang,
        ..Line::default()
    };
    let fillers: Vec<&str> = FILLERS
        .iter()
        .filter(|f| f.0 == lang)
        .map(|f| f.1)
        .collect();
    if rng.chance(0.15) {
        // ordinary chat only
        line.push(*rng.pick(&fillers));
        line.push(" ");
        line.push(*rng.pick(&fillers));
        return line;
    }
    if rng.chance(0.3) {
        line.push(*rng.pick(&fillers));
        line.push(" ");
    }
    let k = kind(rng);
    slot(rng, &mut line, lang, k);
    if rng.chance(0.25) {
        line.push(" ");
        let k2 = kind(rng);
        slot(rng, &mut line, lang, k2);
    }
    if rng.chance(0.3) {
        line.push(" ");
        line.push(*rng.pick(&fillers));
    }
    line
}
