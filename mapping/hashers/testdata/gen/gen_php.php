<?php
// Writes test vectors (one JSON object per line) from PHP: password_hash()
// for bcrypt ($2y$) and argon2i/argon2id, and Symfony's own
// MessageDigestPasswordHasher (Debian php-symfony-password-hasher) for
// sha512_symfony. Run through gen.sh; tests never run this.
require_once '/usr/share/php/Symfony/Component/PasswordHasher/autoload.php';

use Symfony\Component\PasswordHasher\Hasher\MessageDigestPasswordHasher;

$php = 'php-cli ' . PHP_VERSION;
$symfonyVersion = trim(shell_exec("dpkg-query -W -f='\${Version}' php-symfony-password-hasher"));
$symfony = 'php-symfony-password-hasher ' . $symfonyVersion . ' MessageDigestPasswordHasher';

$passwords = ['correct horse battery staple', "pässwörd-€ ☃ 🔑", 'x', 'Tr0ub4dor&3 with spaces and $ dollars {braces}'];

function emit(string $hasher, string $password, string $digest, string $source): void {
    echo json_encode(['hasher' => $hasher, 'password' => $password, 'digest' => $digest, 'source' => $source],
        JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
}

foreach ($passwords as $i => $pw) {
    emit('bcrypt', $pw, password_hash($pw, PASSWORD_BCRYPT, ['cost' => 4 + $i % 3]), $php . ' password_hash PASSWORD_BCRYPT');
    $opts = ['memory_cost' => [1024, 256, 64, 512][$i], 'time_cost' => [2, 1, 3, 2][$i], 'threads' => 1];
    emit('argon2i', $pw, password_hash($pw, PASSWORD_ARGON2I, $opts), $php . ' password_hash PASSWORD_ARGON2I');
    emit('argon2id', $pw, password_hash($pw, PASSWORD_ARGON2ID, $opts), $php . ' password_hash PASSWORD_ARGON2ID');

    // The legacy Symfony/FOSUserBundle setup: sha512, base64, 5000 iterations,
    // salt kept in its own column; FOSUserBundle's salts were base_convert'ed
    // sha1 (base 36) or base64 with '+' turned into '.'.
    $iterations = [5000, 5000, 1, 1000][$i];
    $salt = [base_convert(sha1('seed' . $i), 16, 36),
             rtrim(str_replace('+', '.', base64_encode(random_bytes(32))), '='),
             '',
             'short.salt/9'][$i];
    $hasher = new MessageDigestPasswordHasher('sha512', true, $iterations);
    emit('sha512_symfony', $pw, 'sha512_symfony$' . $iterations . '$' . $salt . '$' . $hasher->hash($pw, $salt),
        $symfony . " (sha512, base64, $iterations iterations), assembled with its salt");
}
