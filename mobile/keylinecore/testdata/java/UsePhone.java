// A Java app's use of the bound core, compiled by bind_test.go against
// the Java gobind generates: the platform services implemented in Java,
// and one call of each kind. It is compiled, not run (running needs the
// Go library built for Android).
import keylinecore.Account;
import keylinecore.AccountList;
import keylinecore.Activation;
import keylinecore.BiometricGate;
import keylinecore.Cancel;
import keylinecore.Clock;
import keylinecore.Config;
import keylinecore.KeyStore;
import keylinecore.Keylinecore;
import keylinecore.Offer;
import keylinecore.Phone;
import keylinecore.Prompt;
import keylinecore.PromptList;
import keylinecore.SecureStorage;

final class UsePhone {
	static final class Storage implements SecureStorage {
		private final java.util.HashMap<String, byte[]> m = new java.util.HashMap<>();
		public byte[] load(String name) { return m.get(name); }
		public void store(String name, byte[] data) { m.put(name, data); }
		public void delete(String name) { m.remove(name); }
	}

	static final class HardwareKey implements KeyStore {
		public byte[] wrap(byte[] secret) throws Exception { throw new Exception("no keystore in this sample"); }
		public byte[] unwrap(byte[] wrapped) throws Exception { throw new Exception("no keystore in this sample"); }
	}

	static final class Gate implements BiometricGate {
		public void authenticate(String reason) {}
	}

	static final class SystemClock implements Clock {
		public long nowUnixMilli() { return System.currentTimeMillis(); }
	}

	static String run(String server, String qr, String pin) {
		Config cfg = new Config();
		cfg.setDeviceName("Ada's phone");
		cfg.setPlatform("android");
		try {
			Phone phone = new Phone(cfg, new Storage(), new HardwareKey(), new Gate(), new SystemClock());
			if (!phone.hasVault()) {
				phone.createVault(pin);
				phone.enableBiometricUnlock(pin, new HardwareKey());
			} else if (phone.hasBiometricUnlock()) {
				try {
					phone.unlockWithBiometrics(new HardwareKey());
				} catch (Exception e) {
					phone.unlock(pin); // cancelled, or biometrics changed
				}
			} else {
				phone.unlock(pin);
			}
			Offer offer = Keylinecore.parseOffer(qr);
			Cancel cancel = Keylinecore.newCancel();
			Activation act = phone.activate(server, offer.getURI(), cancel);
			if (!act.getPaired()) {
				while (!phone.checkPaired(act.getAccountID(), cancel)) {
					Thread.sleep(3000);
				}
			}
			AccountList accounts = phone.accounts();
			for (long i = 0; i < accounts.len(); i++) {
				Account a = accounts.at(i);
				PromptList prompts = phone.fetchPushes(a.getID(), cancel);
				for (long j = 0; j < prompts.len(); j++) {
					Prompt p = prompts.at(j);
					phone.answerPush(p, false, "", cancel);
				}
			}
			phone.setPushToken("fcm:token", cancel);
			return "offset " + phone.clockOffsetSeconds(server);
		} catch (Exception e) {
			String code = Keylinecore.errorCode(e);
			if (code.equals(Keylinecore.CodeWrongPIN)) {
				return "wrong PIN";
			}
			return code + " (retry after " + Keylinecore.retryAfterSeconds(e) + " s)";
		}
	}
}
